"""GET/POST /api/v1/acquiescement through the production WSGI entry point."""

import json
from datetime import date

import pytest

from smartoa.consignes.models import Acknowledgment
from tests.factories import modify_day, paris, publish_day, stop_periods

DAY = date(2025, 9, 22)


@pytest.fixture
def caller(make_contract, issue_token, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "12:55")
    contract = make_contract("BOA00001")
    publish_day(contract, DAY)
    return contract, {"Authorization": f"Bearer {issue_token(contract)}"}


def post(wsgi, headers, body, **kwargs):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return wsgi("POST", "/api/v1/acquiescement", headers=headers, body=raw, **kwargs)


def get(wsgi, headers, day="2025-09-22"):
    return wsgi("GET", "/api/v1/acquiescement", headers=headers, query=f"application_date={day}")


def test_state_then_acknowledge(caller, wsgi, settings):
    contract, headers = caller
    settings.SMARTOA_NOW = paris("2025-09-21", "14:00")
    state = get(wsgi, headers)
    assert state.status == 200
    assert state.json() == {
        "application_date": "2025-09-22",
        "acknowledged": False,
        "version": 1,
        "acknowledged_version": None,
        "acknowledged_at": None,
        "deadline": "2025-09-21T16:30:00+02:00",
        "locked": False,
    }
    done = post(wsgi, headers, {"application_date": "2025-09-22"}, remote_addr="198.51.100.4")
    assert done.status == 201
    assert done.json()["acknowledged"] is True and done.json()["acknowledged_at"] == "2025-09-21T14:00:00+02:00"
    row = Acknowledgment.objects.get()
    assert (row.ip, row.channel, row.version.number) == ("198.51.100.4", "api", 1)
    assert row.actor.startswith("api:") and row.token.contract == contract
    assert get(wsgi, headers).json()["acknowledged"] is True


def test_a_change_voids_it_and_a_stale_version_is_409(caller, wsgi, settings):
    contract, headers = caller
    settings.SMARTOA_NOW = paris("2025-09-21", "14:00")
    post(wsgi, headers, {"application_date": "2025-09-22", "version": 1})
    modify_day(contract, DAY, stop_periods(DAY, "13:55", "18:00"))
    state = get(wsgi, headers).json()
    assert (state["acknowledged"], state["version"], state["acknowledged_version"]) == (False, 2, 1)
    stale = post(wsgi, headers, {"application_date": "2025-09-22", "version": 1})
    assert stale.status == 409 and stale.json()["error"] == "stale_version"
    assert post(wsgi, headers, {"application_date": "2025-09-22", "version": 2}).status == 201


@pytest.mark.parametrize(("now", "status"), [("16:29", 201), ("16:31", 409)])
def test_deadline_to_the_minute(caller, wsgi, settings, now, status):
    _, headers = caller
    settings.SMARTOA_NOW = paris("2025-09-21", now)
    response = post(wsgi, headers, {"application_date": "2025-09-22"})
    assert response.status == status
    if status == 409:  # machines read the HLAR in ISO 8601 (people: "21/09/2025 à 16:30", tests/core)
        assert response.json() == {
            "error": "deadline_passed",
            "message": "acknowledgments for 2025-09-22 closed at HLAR 2025-09-21T16:30:00+02:00",
            "request_id": response.headers["x-request-id"],
        }
        assert get(wsgi, headers).json()["locked"] is True


def test_nothing_published_is_404(caller, wsgi):
    _, headers = caller
    assert get(wsgi, headers, "2025-09-23").status == 404
    response = post(wsgi, headers, {"application_date": "2025-09-23"})
    assert response.status == 404 and response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"application_date": "22/09/2025"},
        {"application_date": "2025-02-30"},
        {},
        {"application_date": 20250922},
        {"application_date": "2025-09-22", "version": "last"},
        b"[]",
    ],
)
def test_bad_input_is_422_json(caller, wsgi, body):
    _, headers = caller
    response = post(wsgi, headers, body)
    assert response.status == 422, response.body
    assert response.json()["error"] == "invalid_input" and response.json()["message"]


def test_unparseable_body_is_422_json(caller, wsgi):
    response = post(wsgi, caller[1], b"{not json")
    assert response.headers["content-type"].startswith("application/json")
    assert response.status == 422 and response.json()["error"] == "invalid_input"


@pytest.mark.parametrize("query", ["", "application_date=yesterday", "application_date=2025-9-22"])
def test_bad_query_is_422(caller, wsgi, query):
    _, headers = caller
    response = wsgi("GET", "/api/v1/acquiescement", headers=headers, query=query)
    assert response.status == 422 and response.json()["error"] == "invalid_input"


def test_token_required(caller, wsgi):
    response = post(wsgi, {}, {"application_date": "2025-09-22"})
    assert response.status == 401 and response.headers["www-authenticate"].startswith("Bearer")


def test_only_the_calling_contracts_consigne(caller, make_contract, issue_token, wsgi):
    other = {"Authorization": f"Bearer {issue_token(make_contract('BOA00002'))}"}
    assert post(wsgi, other, {"application_date": "2025-09-22"}).status == 404
    assert not Acknowledgment.objects.exists()


def test_openapi_documents_the_routes(wsgi):
    schema = wsgi("GET", "/api/v1/openapi.json").json()
    for path in ("/api/v1/acquiescement", "/api/v1/effacements", "/api/v1/token/renew", "/api/v1/effacement"):
        assert path in schema["paths"]
    assert {"get", "post"} <= schema["paths"]["/api/v1/acquiescement"].keys()
    docs = wsgi("GET", "/api/v1/docs")
    assert docs.status == 200 and b"openapi.json" in docs.body
