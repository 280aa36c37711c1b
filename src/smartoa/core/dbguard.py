"""Database limits of web processes: a request never waits on a stalled database much longer than its budget.

Three limits, applied by ``smartoa.wsgi`` (the command line and jobs keep the longer ones of settings.py):

- connecting: PostgreSQL's ``connect_timeout``, taken from what is left of the request's budget (whole seconds,
  at least 2: psycopg's floor) for a server that accepts and never answers;
- a lock: SQLite's busy timeout (another process holding the write lock);
- everything else: a watchdog thread. A server that does not answer at all (PostgreSQL paused with SIGSTOP, a
  network partition) never runs its own ``statement_timeout`` and the kernel keeps acknowledging what the client
  sends, so only the client can give up: when a request outlives its budget, the watchdog shuts the socket of
  the request's connection down (PostgreSQL) or interrupts its statement (SQLite). The request's wait ends at
  once with an OperationalError, answered 503 with Retry-After; the broken connection is discarded.

Connecting counts in the budget and a request waits only once: after its connection was cut or a connection
attempt failed, the request's next attempts fail at once (no second wait on the same stalled server; the health
check of a reused connection and the reconnect after it are one wait, not two). A request whose connecting starts
with less than 2 s of budget left may overrun it by the rest of psycopg's 2 s floor.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
import time

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

log = logging.getLogger("smartoa.db")

CHECK_EVERY = 0.2  # seconds between the watchdog's looks: the precision of the budgets


class Watchdog:
    """Per-process register of the requests in progress with their deadline; a daemon thread cuts the database
    connection of any that outlives it. Arming and disarming cost a dict write each."""

    def __init__(self, check_every: float = CHECK_EVERY):
        self.check_every = check_every
        self.armed: dict[int, list] = {}  # thread id -> [deadline, DatabaseWrapper, cut or failed to connect?]
        self.lock = threading.Lock()
        self.pid: int | None = None  # the process the thread runs in (a fork does not inherit threads)

    def arm(self, seconds: float) -> list:
        """Give the calling thread's request ``seconds`` of database time; returns the entry for ``disarm``."""
        entry = [time.monotonic() + seconds, connections[DEFAULT_DB_ALIAS], False]
        self.armed[threading.get_ident()] = entry
        if self.pid != os.getpid():
            self._start()
        return entry

    def disarm(self, entry: list) -> None:
        """End the calling thread's budget; a connection that was cut is closed, never reused."""
        self.armed.pop(threading.get_ident(), None)
        if entry[2]:
            with contextlib.suppress(DatabaseError):  # it was cut: closing it can only report so
                entry[1].close()

    def _start(self) -> None:
        with self.lock:
            if self.pid == os.getpid():
                return
            self.pid = os.getpid()
            threading.Thread(target=self._watch, name="smartoa-db-watchdog", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(self.check_every)
            moment = time.monotonic()
            for entry in list(self.armed.values()):
                if not entry[2] and moment >= entry[0]:
                    entry[2] = True
                    cut(entry[1])


def cut(wrapper) -> None:
    """Make the connection's pending or next database call fail at once (called from another thread)."""
    raw = wrapper.connection
    if raw is None:
        return
    try:
        if wrapper.vendor == "postgresql":
            with socket.socket(fileno=os.dup(raw.fileno())) as sock:
                sock.shutdown(socket.SHUT_RDWR)  # shuts the socket the connection shares, not only this copy
        elif wrapper.vendor == "sqlite":
            raw.interrupt()
        else:  # pragma: no cover - the platform runs on SQLite and PostgreSQL only
            return
    except Exception:  # noqa: BLE001 - closed meanwhile (each driver says so its own way): nothing left to cut
        return
    # INFO: during a stall every request ends here, and the outage is already reported once (core/outage.py).
    log.info("a request outlived its database time budget: its connection was cut")


watchdog = Watchdog()


class DatabaseBudget:
    """WSGI middleware: each request gets ``api_timeout`` seconds of database time under ``api_prefix`` and
    ``page_timeout`` elsewhere (see the module's docstring)."""

    def __init__(self, app, *, api_prefix: str, api_timeout: float, page_timeout: float):
        self.app, self.api_prefix, self.api_timeout, self.page_timeout = app, api_prefix, api_timeout, page_timeout

    def __call__(self, environ, start_response):
        api = environ.get("PATH_INFO", "").startswith(self.api_prefix)
        entry = watchdog.arm(self.api_timeout if api else self.page_timeout)
        try:
            return self.app(environ, start_response)
        finally:
            watchdog.disarm(entry)


def connect_timeout(seconds_left: float) -> int:
    """PostgreSQL's connect_timeout for ``seconds_left`` of budget: whole seconds, never more than what is left,
    at least 2 (psycopg raises anything lower to 2)."""
    return max(2, math.floor(seconds_left))


def budgeted_connect(get_new_connection):
    """Wrap a PostgreSQL ``DatabaseWrapper.get_new_connection``: inside a request's budget, connecting waits at
    most what is left of it and never again after the request's connection was cut or failed to open."""

    def get_new_connection_within_budget(self, conn_params):
        entry = watchdog.armed.get(threading.get_ident())
        if entry is None:  # outside a request (startup, a thread of its own): the process's limits
            return get_new_connection(self, conn_params)
        left = entry[0] - time.monotonic()
        if entry[2] or left <= 0:
            raise self.Database.OperationalError("the request's database time budget is spent")
        try:
            return get_new_connection(self, {**conn_params, "connect_timeout": connect_timeout(left)})
        except self.Database.Error:
            entry[2] = True  # one wait per request: later attempts of this request fail at once
            raise

    get_new_connection_within_budget.within_budget = True  # type: ignore[attr-defined]
    return get_new_connection_within_budget


def use_web_limits(timeout: float, alias: str = DEFAULT_DB_ALIAS) -> None:
    """Tighten the connect and lock timeouts of the connections this process opens from now on to ``timeout``
    seconds (PostgreSQL's connect_timeout counts whole seconds, at least 2), and make PostgreSQL connecting count
    in the request's budget (``budgeted_connect``)."""
    settings_dict = connections.settings[alias]
    options = settings_dict.setdefault("OPTIONS", {})
    engine = settings_dict["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        options["timeout"] = timeout
    elif engine == "django.db.backends.postgresql":
        options["connect_timeout"] = connect_timeout(timeout)
        wrapper_class = type(connections[alias])
        if not getattr(wrapper_class.get_new_connection, "within_budget", False):
            wrapper_class.get_new_connection = budgeted_connect(wrapper_class.get_new_connection)  # type: ignore[method-assign]
