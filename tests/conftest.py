"""Shared fixtures: factories for contracts, tokens and consignes, and a WSGI client for the real entry point."""

from __future__ import annotations

import io
import json
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction

from smartoa.contracts.models import Contract


@pytest.fixture(autouse=True)
def _fresh_last_use_buffer():
    """The API's per-process last-use buffer must not carry token ids from one test's data to the next."""
    from smartoa.api.auth import discard_last_use

    discard_last_use()
    yield
    discard_last_use()


@pytest.fixture
def make_contract(db):
    """Create a contract: make_contract("BOAXXXXX", sector="pv", power="15")."""

    def make(contract_id="BOAXXXXX", *, sector="pv", power="15", unit=None, name=None, active=True):
        return Contract.objects.create(
            contract_id=contract_id,
            name=name or f"Installation {contract_id}",
            sector=sector,
            installed_power=Decimal(power),
            power_unit=unit or ("MWc" if sector == "pv" else "MW"),
            active=active,
        )

    return make


@pytest.fixture
def issue_token(db):
    """Issue a token for a contract and return it in plain text."""
    from smartoa.contracts.services import issue_token as issue

    def make(contract):
        with transaction.atomic():
            plain, _ = issue(contract, actor="test")
        return plain

    return make


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
