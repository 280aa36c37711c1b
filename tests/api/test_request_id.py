"""Every API error carries its request id in the body (``request_id``), equal to the answer's ``X-Request-ID``:
the hot path's refusals, django-ninja's errors and the non-JSON answers JsonErrorsMiddleware rewrites."""

from __future__ import annotations

import json
from datetime import date

import pytest

from smartoa.api.errors import error_body
from tests.factories import paris, publish_day

BAD = "soa_" + "x" * 43


@pytest.fixture
def token(make_contract, issue_token, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "12:55")
    contract = make_contract("BOA00001")
    publish_day(contract, date(2025, 9, 22))
    return issue_token(contract)


def assert_carries_its_id(response, status, code):
    assert response.status == status, response.body
    body = response.json()
    assert body["error"] == code and body["message"]
    assert body["request_id"] == response.headers["x-request-id"] and len(body["request_id"]) == 32


@pytest.mark.parametrize("path", ["/api/v1/effacement", "/api/v1/acquiescement"])  # hot path, then Django
def test_401(wsgi, token, path):
    response = wsgi("GET", path, headers={"Authorization": f"Bearer {BAD}"}, query="application_date=2025-09-22")
    assert_carries_its_id(response, 401, "unknown_token")
    assert_carries_its_id(wsgi("GET", path, query="application_date=2025-09-22"), 401, "missing_token")


@pytest.mark.parametrize("path", ["/api/v1/effacement", "/api/v1/acquiescement"])
def test_403(wsgi, make_contract, issue_token, settings, path):
    contract = make_contract("BOA00001")
    token = issue_token(contract)  # on the real clock, as production reads it
    settings.PRODUCTION = True
    settings.SMARTOA_ENV = "production"
    response = wsgi(
        "GET",
        path,
        headers={"Authorization": f"Bearer {token}"},
        remote_addr="80.12.34.7",
        query="application_date=2025-09-22",
    )
    assert_carries_its_id(response, 403, "ip_not_allowed")


def test_404(wsgi, token, make_contract, issue_token):
    nothing = issue_token(make_contract("BOA00002"))
    assert_carries_its_id(  # the hot path's own 404
        wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {nothing}"}), 404, "not_found"
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert_carries_its_id(  # a UserError through django-ninja
        wsgi("GET", "/api/v1/acquiescement", headers=headers, query="application_date=2025-09-23"), 404, "not_found"
    )
    assert_carries_its_id(wsgi("GET", "/api/v1/nothing", headers=headers), 404, "not_found")  # Django's page


def test_405(wsgi, token):
    response = wsgi("DELETE", "/api/v1/acquiescement", headers={"Authorization": f"Bearer {token}"})
    assert_carries_its_id(response, 405, "method_not_allowed")


def test_422(wsgi, token):
    headers = {"Authorization": f"Bearer {token}"}
    assert_carries_its_id(
        wsgi("GET", "/api/v1/acquiescement", headers=headers, query="application_date=22/09/2025"),
        422,
        "invalid_input",
    )
    body = json.dumps({"application_date": "2025-09-22", "version": True}).encode()
    assert_carries_its_id(wsgi("POST", "/api/v1/acquiescement", headers=headers, body=body), 422, "invalid_input")


def test_429(wsgi, token, settings):
    settings.SMARTOA_API_FAILURE_RATE = "3/h"  # a fixed window an hour long: a test's calls do not straddle it
    for _ in range(3):
        wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {BAD}"})
    limited = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {BAD}"})
    assert_carries_its_id(limited, 429, "rate_limited")
    post = wsgi("POST", "/api/v1/acquiescement", headers={"Authorization": f"Bearer {BAD}"})
    assert_carries_its_id(post, 429, "rate_limited")


def test_django_without_the_wsgi_edge_too(client, token):
    """Django's test client skips RequestIdWsgi: RequestIdMiddleware gives the id, in the header and the body."""
    response = client.get("/api/v1/effacement", headers={"Authorization": f"Bearer {BAD}"})
    assert response.status_code == 401
    assert response.json()["request_id"] == response.headers["X-Request-ID"]


def test_the_effacement_document_is_unchanged(wsgi, token):
    """A 200 is the stored document byte for byte: no request id is added to it."""
    response = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200 and b"request_id" not in response.body


def test_an_error_body_outside_django_names_the_id_it_is_given():
    """A process without RequestIdWsgi (the stream) passes its own id; none at all leaves it out."""
    assert json.loads(error_body(401, "unknown_token", "no", request_id="ab" * 16))["request_id"] == "ab" * 16
    assert "request_id" not in json.loads(error_body(401, "unknown_token", "no"))
