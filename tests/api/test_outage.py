"""The real server when the database is down or stalls: JSON 503 with Retry-After within seconds, the outage
logged once (not a traceback per request), and service back as soon as the database is.

PostgreSQL is reached through a TCP relay standing for the server: stopped (connections closed, new ones
refused) or paused (connections accepted and acknowledged, nothing answered, as with SIGSTOP). SQLite stalls when
another process holds its write lock."""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection

from smartoa.contracts.services import issue_token
from tests.api.servers import TcpRelay, call, start_server
from tests.factories import PUBLIC_IP
from tests.subprocess_env import database_url

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

DOC = """{"id": "BOA00001", "application_date": "2026-03-29", "data": [
 {"start_date": "2026-03-29T00:00:00+01:00", "end_date": "2026-03-30T00:00:00+02:00", "value": 0.0}]}"""
BUDGET = 2.0  # SMARTOA_DB_TIMEOUT of these servers, in seconds

postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL run only")
sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite run only")


@pytest.fixture
def token(make_contract, tmp_path):
    contract = make_contract("BOA00001")
    call_command("ips", "add", "BOA00001", PUBLIC_IP)
    (tmp_path / "doc.json").write_text(DOC)
    call_command("consignes", "publish", str(tmp_path / "doc.json"), "--force", "--reason", "test data")
    plain, _ = issue_token(contract, actor="test")
    return plain


@pytest.fixture
def relay():
    settings_dict = connection.settings_dict
    relay = TcpRelay((settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432)))
    yield relay
    relay.close()


def through(relay: TcpRelay) -> str:
    """The test database's URL, through the relay."""
    s = connection.settings_dict
    return database_url().replace(f"@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/", f"@127.0.0.1:{relay.port}/")


def assert_unavailable(answer, within: float):
    assert answer.status == 503, (answer.status, answer.body)
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["error"] == "unavailable" and body["request_id"] == answer.headers["x-request-id"]
    assert int(answer.headers["retry-after"]) > 0
    assert answer.seconds < within, answer.seconds


def many(port, n, path="/api/v1/effacement", **kwargs):
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: call(port, "GET", path, **kwargs), range(n)))


@postgresql_only
def test_postgresql_down_is_503_logged_once_then_back(tmp_path, token, relay):
    server = start_server(tmp_path, DATABASE_URL=through(relay), SMARTOA_DB_TIMEOUT=str(BUDGET))
    try:
        assert call(server.port, "GET", "/api/v1/effacement", token=token).status == 200
        relay.down()
        for answer in many(server.port, 200, token=token):  # the hot path
            assert_unavailable(answer, within=BUDGET + 1)
        for answer in many(server.port, 40, "/api/v1/acquiescement?application_date=2026-03-29", token=token):
            assert_unavailable(answer, within=BUDGET + 1)  # the Django routes: JSON too, not an HTML 500
        relay.up()
        back = [call(server.port, "GET", "/api/v1/effacement", token=token).status for _ in range(20)]
        assert back[-10:] == [200] * 10
    finally:
        server.stop()
    logs = server.logs()
    # One report with its traceback per worker process at most (a traceback here has two parts: psycopg's error
    # and Django's), not one per request; then the recovery.
    assert 1 <= logs.count("database unavailable") <= 2, logs[:5000]
    assert logs.count("Traceback (most recent call last)") <= 2 * logs.count("database unavailable")
    assert "database available again" in logs
    assert len(logs) < 20_000


@postgresql_only
def test_postgresql_paused_is_503_within_the_budget(tmp_path, token, relay):
    server = start_server(
        tmp_path, DATABASE_URL=through(relay), SMARTOA_DB_TIMEOUT=str(BUDGET), SMARTOA_LOG_LEVEL="INFO"
    )
    try:
        # Every worker thread opens its connection while the server answers...
        assert {a.status for a in many(server.port, 48, token=token)} == {200}
        relay.stall()
        # ...then waits on it: the watchdog cuts it at the budget (one at a time: no wait for a free thread).
        for _ in range(4):
            assert_unavailable(call(server.port, "GET", "/api/v1/effacement", token=token), within=BUDGET + 1.5)
        # The Django routes check their connection first, then reconnect: budget + connect timeout at worst.
        for _ in range(2):
            answer = call(server.port, "GET", "/api/v1/acquiescement?application_date=2026-03-29", token=token)
            assert_unavailable(answer, within=2 * BUDGET + 2)
        relay.resume()
        back = [call(server.port, "GET", "/api/v1/effacement", token=token).status for _ in range(20)]
        assert back[-10:] == [200] * 10
    finally:
        server.stop()
    assert "its connection was cut" in server.logs()  # the watchdog, not only the connect timeout


@postgresql_only
def test_postgresql_paused_before_connecting_is_503_after_the_connect_timeout(tmp_path, token, relay):
    server = start_server(tmp_path, DATABASE_URL=through(relay), SMARTOA_DB_TIMEOUT=str(BUDGET))
    try:
        relay.stall()  # accepts connections, never answers: no connection was ever opened by the workers
        assert_unavailable(call(server.port, "GET", "/api/v1/effacement", token=token), within=BUDGET + 1.5)
    finally:
        server.stop()


@sqlite_only
def test_sqlite_write_lock_held_elsewhere_is_503_within_the_budget(tmp_path, token):
    server = start_server(tmp_path, SMARTOA_DB_TIMEOUT="1.5")
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    try:
        assert call(server.port, "GET", "/api/v1/effacement", token=token).status == 200
        holder.execute("BEGIN IMMEDIATE")  # another process's write transaction, never finished
        started = time.monotonic()
        answer = call(
            server.port, "POST", "/api/v1/acquiescement", token=token, body={"application_date": "2026-03-29"}
        )
        assert_unavailable(answer, within=3.5)
        assert time.monotonic() - started >= 1.4  # it did wait for the lock, up to the budget
        # Reading is not blocked (WAL): the hot path still answers.
        assert call(server.port, "GET", "/api/v1/effacement", token=token).status == 200
        holder.execute("ROLLBACK")
        done = call(server.port, "POST", "/api/v1/acquiescement", token=token, body={"application_date": "2026-03-29"})
        assert done.status in (201, 409), done.body  # served again (409: the test clock may be past HLAR)
    finally:
        holder.close()
        server.stop()
    assert server.logs().count("database unavailable") <= 2
