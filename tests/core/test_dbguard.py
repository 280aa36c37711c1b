"""The web processes' database watchdog: a request that outlives its budget has its connection cut, at once."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections

from smartoa.core.dbguard import Watchdog, budgeted_connect, connect_timeout, watchdog

pytestmark = pytest.mark.django_db(transaction=True)

# A statement that runs far longer than the budget here (SQLite: counting 10^9 rows; PostgreSQL: sleeping, not
# too long: the server's backend sleeps on after its client gave up, and the test database is dropped at the end).
LONG = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 1000000000) SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(4)",
}


def in_a_request_thread(watchdog: Watchdog, budget: float, sql: str) -> dict:
    """Run ``sql`` on a thread's own connection under ``budget``, as a web request would."""
    outcome: dict = {}

    def request():
        entry = watchdog.arm(budget)
        started = time.monotonic()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                outcome["rows"] = cursor.fetchall()
        except OperationalError as exc:
            outcome["error"] = exc
        finally:
            outcome["seconds"] = time.monotonic() - started
            watchdog.disarm(entry)
            outcome["discarded"] = connection.connection is None
            connection.close()

    thread = threading.Thread(target=request)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the statement was never cut"
    return outcome


def test_a_statement_outliving_the_budget_is_cut():
    outcome = in_a_request_thread(Watchdog(check_every=0.05), 0.5, LONG[connection.vendor])
    assert isinstance(outcome.get("error"), OperationalError), outcome
    assert 0.5 <= outcome["seconds"] < 3 and outcome["discarded"]
    if connection.vendor == "postgresql":
        time.sleep(4)  # let the server's backend finish its sleep and go


def test_a_request_within_its_budget_keeps_its_connection():
    outcome = in_a_request_thread(Watchdog(check_every=0.05), 5, "SELECT 1")
    assert outcome["rows"] == [(1,)] and not outcome["discarded"]


def connect_in_a_request(budget: float, *, spent: bool = False) -> dict:
    """Open a PostgreSQL connection the way a web request does (``budgeted_connect``), recording the parameters
    psycopg receives; ``spent``: the request's connection was already cut."""
    outcome: dict = {"params": []}
    real = type(connections[DEFAULT_DB_ALIAS]).get_new_connection

    def recording(wrapper, conn_params):
        outcome["params"].append(conn_params)
        return real(wrapper, conn_params)

    within_budget = budgeted_connect(recording)

    def request():
        entry = watchdog.arm(budget)
        entry[2] = spent
        try:
            wrapper = connections[DEFAULT_DB_ALIAS]
            within_budget(wrapper, wrapper.get_connection_params()).close()
        except wrapper.Database.OperationalError as exc:
            outcome["error"] = exc
        finally:
            watchdog.armed.pop(threading.get_ident(), None)

    thread = threading.Thread(target=request)
    thread.start()
    thread.join(30)
    return outcome


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's connect_timeout")
def test_connecting_waits_at_most_what_is_left_of_the_budget():
    outcome = connect_in_a_request(5)
    assert "error" not in outcome, outcome
    assert outcome["params"][0]["connect_timeout"] in (4, 5)  # the budget's whole seconds left, not the process's
    assert connect_timeout(0.5) == 2 and connect_timeout(3.9) == 3 and connect_timeout(60) == 60


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's connect_timeout")
def test_a_request_whose_connection_was_cut_never_waits_on_connecting_again():
    outcome = connect_in_a_request(5, spent=True)
    assert outcome["params"] == [] and "budget is spent" in str(outcome["error"])
