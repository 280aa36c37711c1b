"""Shared fixtures: the factories of ``tests/factories.py`` as fixtures, and a WSGI client for the real entry
point."""

from __future__ import annotations

import importlib
import io
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from tests import factories


@pytest.fixture(autouse=True)
def _fresh_api_state():
    """The API's per-process state starts afresh in each test: its buffers (tokens' last use, refusals to audit)
    must not carry ids from one test's rolled-back data to the next, nor its outage reports their counts."""
    from smartoa.api.auth import discard_last_use
    from smartoa.api.refusals import discard_tally
    from smartoa.core import outage

    def reset():
        discard_last_use()
        discard_tally()
        for tracker in (outage.database, outage.cache):
            tracker.since, tracker.failures, tracker.reported = None, 0, 0

    reset()
    yield
    reset()


@pytest.fixture(autouse=True)
def _jobs_run_at_once():
    """Queued jobs run at once, in the caller's thread (Huey's immediate mode, in-memory queue): a commit that
    writes to the outbox delivers it before returning, as the worker would a moment later. Tests of the real
    worker run ``smartoa worker`` in a subprocess."""
    from smartoa.jobs.engine import huey
    from smartoa.notifications.senders import memory

    huey.immediate = True
    memory.reset()
    yield
    memory.reset()


@pytest.fixture(autouse=True)
def _empty_shared_cache_after_committed_tests(request):
    """The shared cache (lockout and rate-limit counters) is a database table that a database flush leaves alone:
    a test that commits (transactional database, live or subprocess servers) must not hand its counters to the
    next one. Tests inside a rolled-back transaction need nothing."""
    yield
    marker = request.node.get_closest_marker("django_db")
    committed = marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    if committed or {"transactional_db", "live_server"} & set(request.fixturenames):
        from django.core.cache import cache

        cache.clear()


def _commits(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    committed = marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    return bool(committed or {"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _eligibility_rules_survive_flushes(request):
    """A test that commits starts after another's flush, which removed the migration's eligibility rules: they are
    put back (the publication rules refuse a contract of a sector without one)."""
    if _commits(request):
        request.getfixturevalue("transactional_db")
        from django.apps import apps

        importlib.import_module("smartoa.contracts.migrations.0002_eligibility_rules").add_rules(apps, None)


@pytest.fixture
def make_contract(db):
    """Create a contract: make_contract("BOAXXXXX", sector="pv", power="15")."""
    return factories.make_contract


@pytest.fixture
def issue_token(db):
    """Issue a token for a contract and return it in plain text."""
    return factories.make_token


@pytest.fixture
def make_consigne(db):
    """make_consigne(contract, day, [(start, end, value), ...]) adds the next version of that day's consigne."""
    return factories.make_consigne


@pytest.fixture
def acknowledge(db):
    """acknowledge(contract, day) acknowledges the day's current version (before its HLAR)."""
    return factories.acknowledge


@pytest.fixture
def load_curves(db):
    """load_curves(contract_id, first_day, last_day, value=0.0, overrides={datetime: value}) imports a curve."""
    return factories.load_curves


@dataclass
class WsgiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def call_wsgi(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    remote_addr: str = "127.0.0.1",
    query: str = "",
) -> WsgiResponse:
    """Call the production WSGI application (hot path + Django) as a server would."""
    from smartoa.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": remote_addr,
        "HTTP_HOST": "localhost",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"] = int(status.split()[0])
        captured["headers"] = {k.lower(): v for k, v in response_headers}

    chunks = application(environ, start_response)
    try:
        data = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return WsgiResponse(captured["status"], captured["headers"], data)


@contextmanager
def keep_connection():
    """Stop Django's per-request connection recycling (as its test client does), so that requests through the
    real WSGI application run inside the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def wsgi(db):
    """The production WSGI application, called in-process: wsgi("GET", "/api/v1/effacement", headers=...)."""
    with keep_connection():
        yield call_wsgi


@pytest.fixture(scope="session")
def browser():
    """One headless Debian chromium for the session's browser tests (Playwright's sync API allows one running
    instance per thread: every browser test uses this one)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.browser import ARGS, CHROMIUM

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
