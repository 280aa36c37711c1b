"""The sandbox's button in chromium, against the live server: on the contract's API access tab, a test consigne
published with a message saying what, for which day, where it flows and that it must be acknowledged; the real
API serves it at once and the acknowledgment API accepts it; the contract's page asks for its acknowledgment.
Screenshots at phone and desktop width, in French and English, checked by axe-core."""

from __future__ import annotations

import json
import urllib.request

import pytest

from smartoa.audit.models import AuditEvent
from smartoa.contracts.models import Contract
from tests.browser import DESKTOP, PHONE, needs_chromium
from tests.factories import make_token
from tests.portal.test_contract_pages import signed_in  # noqa: F401 - the fixture

pytestmark = needs_chromium


def call(live_server, token: str, path: str, body: bytes | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the test server's own URL
        live_server.url + path,
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test server
        return json.loads(response.read())


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_the_button_publishes_a_test_consigne_the_api_serves(signed_in, live_server, width):  # noqa: F811
    token = make_token(Contract.objects.get(contract_id="BOA00001"))
    v = signed_in(width=width)
    v.go("/contrats/BOA00001/")
    v.page.get_by_role("link", name="Accès API").click()
    v.page.wait_for_url("**/contrats/BOA00001/acces/")
    panel = v.page.locator("section", has=v.page.get_by_role("heading", name="Consigne de test"))
    assert "Elle porte sur le 25/11/2026" in panel.inner_text()
    v.check_page("sandbox-button")
    v.page.get_by_role("button", name="Publier une consigne de test").click()
    v.page.wait_for_url("**/contrats/BOA00001/acces/")
    message = v.page.locator(".messages").inner_text()
    assert "Consigne de test publiée pour le 25/11/2026 (version 2, arrêt 12:00–14:00)" in message
    assert "le flux d'événements, le webhook" in message and "acquiescée avant l'HLAR (24/11/2026 à 16:30)" in message
    v.check_page("sandbox-published")

    served = call(live_server, token, "/api/v1/effacement")
    assert served["application_date"] == "2026-11-25"
    assert [(p["start_date"][11:16], p["end_date"][11:16]) for p in served["data"] if p["value"] == 1.0] == [
        ("12:00", "14:00")
    ]
    event = AuditEvent.objects.get(action="consigne.sandbox")
    assert event.actor == "producer@example.fr" and event.details["channel"] == "portal"

    v.go("/contrats/BOA00001/")
    assert "À acquiescer (version 2)" in v.page.locator("#day-2026-11-25").inner_text()
    done = call(live_server, token, "/api/v1/acquiescement", b'{"application_date": "2026-11-25", "version": 2}')
    assert done["acknowledged"] is True


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_in_english(signed_in, width):  # noqa: F811
    v = signed_in(width=width)
    v.page.get_by_role("button", name="English").click()
    v.page.wait_for_load_state()
    v.go("/contrats/BOA00002/acces/")
    v.page.get_by_role("button", name="Publish a test consigne").click()
    v.page.wait_for_url("**/contrats/BOA00002/acces/")
    message = v.page.locator(".messages").inner_text()
    assert "Test consigne published for 25/11/2026 (version 2, stop 12:00–14:00)" in message
    assert "must be acknowledged before HLAR" in message
    v.check_page("en-sandbox-published")


def test_another_producers_contract_answers_404(signed_in):  # noqa: F811
    v = signed_in()
    v.go("/contrats/BOA00001/acces/")
    token = v.page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    response = v.page.request.post(
        v.base_url + "/contrats/BOA00009/acces/consigne-de-test/",
        form={"csrfmiddlewaretoken": token},
        headers={"Referer": v.base_url + "/contrats/BOA00001/acces/"},
    )
    assert response.status == 404
    assert not AuditEvent.objects.filter(action="consigne.sandbox").exists()
