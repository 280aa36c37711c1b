"""The OpenAPI document describes what the endpoints really take and return; /api/v1/docs works offline."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import pytest

from smartoa.consignes.queries import current_version
from tests.factories import paris, publish_day

SEED = json.loads((Path(__file__).parent.parent / "data" / "seed_effacement.json").read_text())


@pytest.fixture
def schema(wsgi):
    response = wsgi("GET", "/api/v1/openapi.json")
    assert response.status == 200
    return response.json()


def resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_effacement_response_is_described(schema):
    operation = schema["paths"]["/api/v1/effacement"]["get"]
    document = resolve(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert list(document["properties"]) == ["id", "update_date", "application_date", "data"] == list(SEED)
    assert document["properties"]["application_date"]["format"] == "date"
    assert document["properties"]["update_date"]["format"] == "date-time"
    period = resolve(schema, document["properties"]["data"]["items"])
    assert list(period["properties"]) == list(SEED["data"][0])
    assert period["properties"]["start_date"]["format"] == period["properties"]["end_date"]["format"] == "date-time"
    value = period["properties"]["value"]
    assert value["enum"] == [0.0, 1.0] and "stop" in value["description"]
    assert {"401", "403", "404", "429", "503"} <= operation["responses"].keys()


def test_dates_are_formatted(schema):
    history = {p["name"]: p for p in schema["paths"]["/api/v1/effacements"]["get"]["parameters"]}
    assert history["start"]["schema"]["format"] == history["end"]["schema"]["format"] == "date"
    (day,) = schema["paths"]["/api/v1/acquiescement"]["get"]["parameters"]
    assert day["schema"]["format"] == "date"
    state = resolve(schema, schema["components"]["schemas"]["AcknowledgmentOut"])["properties"]
    assert state["deadline"]["format"] == "date-time" and state["application_date"]["format"] == "date"
    body = schema["components"]["schemas"]["AcknowledgmentIn"]["properties"]
    assert body["application_date"]["format"] == "date"


def test_the_effacement_bytes_are_still_the_stored_ones(make_contract, issue_token, settings, wsgi):
    settings.SMARTOA_NOW = paris("2025-09-21", "12:55")
    contract = make_contract("BOAXXXXX")
    publish_day(contract, date(2025, 9, 22))
    headers = {"Authorization": f"Bearer {issue_token(contract)}"}
    stored = current_version(contract.pk, date(2025, 9, 22)).document
    assert wsgi("GET", "/api/v1/effacement", headers=headers).body.decode() == stored


@pytest.mark.parametrize("version", [True, False, 1.0, "1", 0, -1])
def test_a_version_must_be_a_positive_integer(make_contract, issue_token, settings, wsgi, version):
    settings.SMARTOA_NOW = paris("2025-09-21", "12:55")
    contract = make_contract("BOAXXXXX")
    publish_day(contract, date(2025, 9, 22))
    body = json.dumps({"application_date": "2025-09-22", "version": version}).encode()
    response = wsgi(
        "POST", "/api/v1/acquiescement", headers={"Authorization": f"Bearer {issue_token(contract)}"}, body=body
    )
    assert response.status == 422, response.body  # ``true`` is not version 1
    assert response.json()["error"] == "invalid_input" and "version" in response.json()["message"]


def test_docs_page_uses_local_assets(wsgi):
    page = wsgi("GET", "/api/v1/docs")
    assert page.status == 200
    assert b"/static/ninja/swagger-ui-bundle.js" in page.body and b"cdn" not in page.body.lower()


def test_docs_render_offline_in_a_browser(browser, live_server):
    local = urlparse(live_server.url).netloc
    requested, errors = [], []
    page = browser.new_page()
    try:
        # Anything not served by the site is recorded and refused, as it would be offline.
        page.route(
            "**/*",
            lambda route: route.continue_() if urlparse(route.request.url).netloc == local else route.abort(),
        )
        page.on("request", lambda request: requested.append(request.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/api/v1/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=15_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
    finally:
        page.close()
    assert errors == []
    assert [url for url in requested if urlparse(url).netloc != local] == []
    assert any("/api/v1/effacement" in path for path in paths) and len(paths) >= 5
