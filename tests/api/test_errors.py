"""Under /api/ every answer is JSON {"error", "message"}: unknown paths, wrong methods, bad Host, server errors and
database outages; server errors are logged with their traceback and request id. Other pages keep Django's HTML."""

from __future__ import annotations

import io
import logging
import re
from contextlib import contextmanager
from datetime import date

import pytest
from django.db import OperationalError, ProgrammingError

from smartoa.core.logging import RequestIdFilter
from smartoa.domain.errors import Conflict, InvalidInput, NotFound, UserError
from tests.factories import paris, publish_day


@pytest.fixture
def headers(make_contract, issue_token, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "12:55")
    contract = make_contract("BOA00001")
    publish_day(contract, date(2025, 9, 22))
    return {"Authorization": f"Bearer {issue_token(contract)}"}


def assert_json_error(response, status, code):
    assert response.status == status, response.body
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == code and body["message"], body
    return body


@contextmanager
def console_log():
    """What the configured console handler writes (with the request id of its format) inside the block."""
    handlers = {
        handler
        for name in ("smartoa", "django.request")
        for handler in logging.getLogger(name).handlers
        if any(isinstance(f, RequestIdFilter) for f in handler.filters)
    }
    assert handlers
    stream, saved = io.StringIO(), {}
    for handler in handlers:
        saved[handler] = handler.setStream(stream)
    try:
        yield stream
    finally:
        for handler, previous in saved.items():
            handler.setStream(previous)


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing", "/api/v1/effacement/", "/api/v1/acquiescement/", "/api/v1/", "/api/v2/effacement"]
)
def test_unknown_path_is_json_404(wsgi, headers, path):
    body = assert_json_error(wsgi("GET", path, headers=headers), 404, "not_found")
    assert path in body["message"]
    if path.endswith("/"):
        assert "trailing slash" in body["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/effacement"), ("DELETE", "/api/v1/acquiescement"), ("GET", "/api/v1/token/renew")],
)
def test_wrong_method_is_json_405(wsgi, headers, method, path):
    response = wsgi(method, path, headers=headers)
    body = assert_json_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] and method in body["message"]


@pytest.mark.parametrize("path", ["/api/v1/effacement", "/api/v1/acquiescement?application_date=2025-09-22"])
def test_a_host_not_served_is_json_400(wsgi, headers, path):
    """The hot path checks Host as Django does: a request for another site is refused before anything else."""
    path, _, query = path.partition("?")
    response = wsgi("GET", path, headers={**headers, "Host": "evil.example"}, query=query)
    assert_json_error(response, 400, "bad_request")
    assert wsgi("GET", path, headers={**headers, "Host": "localhost:8000"}, query=query).status == 200


def test_hot_path_host_check_follows_allowed_hosts(wsgi, headers, settings):
    settings.ALLOWED_HOSTS = ["api.example.fr"]
    assert wsgi("GET", "/api/v1/effacement", headers=headers).status == 400  # Host: localhost
    assert wsgi("GET", "/api/v1/effacement", headers={**headers, "Host": "API.example.fr"}).status == 200
    assert wsgi("GET", "/api/v1/effacement", headers={**headers, "Host": "api.example.fr.evil"}).status == 400
    assert wsgi("GET", "/api/v1/effacement", headers={**headers, "Host": "api.example.fr@evil"}).status == 400


def test_server_error_is_json_500_logged_with_traceback_and_request_id(wsgi, headers, monkeypatch):
    def bug(*args, **kwargs):
        raise ProgrammingError("a bug, not bad input")

    monkeypatch.setattr("smartoa.api.acquiescement.acknowledgment_state", bug)
    with console_log() as log:
        response = wsgi("GET", "/api/v1/acquiescement", headers=headers, query="application_date=2025-09-22")
    body = assert_json_error(response, 500, "server_error")
    request_id = response.headers["x-request-id"]
    assert body["request_id"] == request_id
    text = log.getvalue()
    assert f"[request {request_id}]" in text and "Traceback" in text and "a bug, not bad input" in text


def test_hot_path_bug_is_json_500_logged(wsgi, headers, monkeypatch):
    def bug(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr("smartoa.api.hotpath.authenticate", bug)
    with console_log() as log:
        response = wsgi("GET", "/api/v1/effacement", headers=headers)
    body = assert_json_error(response, 500, "server_error")
    assert body["request_id"] == response.headers["x-request-id"]
    assert f"[request {body['request_id']}]" in log.getvalue() and "KeyError" in log.getvalue()


@pytest.mark.parametrize("path", ["/api/v1/effacement", "/api/v1/acquiescement"])
def test_database_outage_is_json_503_logged_once(wsgi, headers, monkeypatch, path):
    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("smartoa.api.auth._identify", down)
    with console_log() as log:
        answers = [wsgi("GET", path, headers=headers, query="application_date=2025-09-22") for _ in range(30)]
    for response in answers:
        body = assert_json_error(response, 503, "unavailable")
        assert response.headers["retry-after"] == "5" and body["request_id"] == response.headers["x-request-id"]
    text = log.getvalue()
    assert text.count("database unavailable") == 1 and text.count("Traceback") == 1, text
    assert answers[0].headers["x-request-id"] in text  # the first failure, with its request id
    monkeypatch.undo()
    with console_log() as log:
        assert wsgi("GET", path, headers=headers, query="application_date=2025-09-22").status == 200
    assert "database available again" in log.getvalue() and "30 requests failed" in log.getvalue()


def test_every_answer_has_its_own_request_id(wsgi, headers, client):
    ids = {
        wsgi("GET", "/api/v1/effacement", headers=headers).headers["x-request-id"],
        wsgi("GET", "/api/v1/effacement").headers["x-request-id"],
        wsgi("GET", "/api/v1/nothing").headers["x-request-id"],
        client.get("/api/v1/effacement").headers["X-Request-ID"],  # Django without the WSGI edge too
    }
    assert len(ids) == 4 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_other_pages_keep_django_html_errors(wsgi):
    assert wsgi("GET", "/no-such-page").status == 302  # anonymous: to the login page first
    response = wsgi("GET", "/connexion/oubli/no-such-page/")  # a public path that does not exist
    assert response.status == 404 and response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("bad"), 422),
        (NotFound("none"), 404),
        (Conflict("state"), 409),
        (UserError("plain"), 422),
    ],
)
def test_user_errors_are_mapped_by_code(wsgi, headers, monkeypatch, error, status):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr("smartoa.api.acquiescement.acknowledgment_state", refuse)
    response = wsgi("GET", "/api/v1/acquiescement", headers=headers, query="application_date=2025-09-22")
    assert_json_error(response, status, error.code)
    assert response.json()["message"] == str(error)
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_no_database_error_is_disguised_as_bad_input(wsgi, headers, monkeypatch):
    """A ValueError from a computation is a bug (500), not a 422."""

    def bug(*args, **kwargs):
        raise ValueError("not the caller's fault")

    monkeypatch.setattr("smartoa.api.acquiescement.acknowledgment_state", bug)
    with console_log():
        response = wsgi("GET", "/api/v1/acquiescement", headers=headers, query="application_date=2025-09-22")
    assert_json_error(response, 500, "server_error")
