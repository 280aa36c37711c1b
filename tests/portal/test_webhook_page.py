"""The webhook page in chromium, against the live server and a real HTTP receiver on loopback: set the URL (the
secret shown once), send a test event that the receiver verifies with that secret, the log showing it delivered;
a bad URL refused with a clear message; removal after a confirmation; another producer's contract answers 404. Every
page screenshot at phone and desktop width, in French and English, checked by axe-core."""

from __future__ import annotations

import json

import pytest

from smartoa.audit.models import AuditEvent
from smartoa.notifications.models import OutboxMessage, Webhook
from tests.browser import DESKTOP, PHONE, needs_chromium
from tests.notifications.receiver import Receiver, signature_ok
from tests.portal.conftest import NOW
from tests.portal.test_contract_pages import signed_in  # noqa: F401 - the fixture

pytestmark = needs_chromium


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_set_the_webhook_send_a_test_event_and_see_it_delivered(signed_in, receiver, width):  # noqa: F811
    v = signed_in(width=width)
    v.go("/contrats/BOA00001/")
    v.page.get_by_role("link", name="Webhook").click()
    assert "Aucun webhook" in v.page.locator("main").inner_text()
    v.check_page("webhook-empty")
    v.page.get_by_label("URL de réception").fill(receiver.url)
    v.page.get_by_role("button", name="Enregistrer et créer un secret").click()
    secret = v.page.locator("#webhook-secret").inner_text().strip()
    assert secret.startswith("whsec_") and Webhook.objects.get().secret == secret
    v.check_page("webhook-secret")
    v.page.get_by_role("link", name="Retour au webhook").click()
    assert receiver.url in v.page.locator("main").inner_text()
    v.page.get_by_role("button", name="Envoyer un événement de test").click()
    assert v.page.get_by_text("Événement de test envoyé").is_visible()
    assert receiver.wait_for(1, timeout=10)
    (call,) = receiver.requests
    assert call.event == "test" and signature_ok(call, secret) and json.loads(call.body)["id"] == "BOA00001"
    message = OutboxMessage.objects.get(kind="webhook")
    assert call.delivery == str(message.delivery_id) and message.status == "delivered"
    log = v.page.locator("table.log tbody tr")
    assert log.count() == 1
    assert "test" in log.inner_text() and f"livré à {NOW:%H:%M}" in log.inner_text()
    v.check_page("webhook-log")
    assert set(AuditEvent.objects.filter(contract__contract_id="BOA00001").values_list("action", flat=True)) >= {
        "webhook.set",
        "webhook.test",
    }


def test_a_bad_url_is_refused_with_a_clear_message(signed_in):  # noqa: F811
    v = signed_in()
    v.go("/contrats/BOA00001/webhook/")
    for url, text in [
        ("ftp://hooks.example.fr/", "Seules les URL https:// sont acceptées"),
        ("https://moi:motdepasse@hooks.example.fr/", "ni nom d'utilisateur ni mot de passe"),
        ("https://hooks.example.fr/" + "x" * 600, "L'URL est trop longue (625 caractères ; 500 au plus)"),
    ]:
        v.page.get_by_label("URL de réception").fill(url)
        v.page.get_by_role("button", name="Enregistrer et créer un secret").click()
        assert text in v.page.locator(".field .error").text_content()  # (as written; shown with a capital)
    v.check_page("webhook-refused")
    assert not Webhook.objects.exists()


def test_remove_after_the_confirmation_and_the_page_in_english(signed_in, receiver):  # noqa: F811
    v = signed_in(width=PHONE)
    v.go("/contrats/BOA00001/webhook/")
    v.page.get_by_label("URL de réception").fill(receiver.url)
    v.page.get_by_role("button", name="Enregistrer et créer un secret").click()
    v.go("/contrats/BOA00001/webhook/")
    v.page.get_by_role("button", name="English").click()
    v.page.wait_for_load_state()
    assert v.page.get_by_role("heading", name="Latest calls").is_visible()
    v.check_page("en-webhook")
    v.page.get_by_role("link", name="Remove the webhook").click()
    assert receiver.url in v.page.locator("main").inner_text()
    v.check_page("en-webhook-remove")
    v.page.get_by_role("button", name="Remove").click()
    assert v.page.get_by_text("Webhook removed").is_visible()
    assert not Webhook.objects.get().active
    assert v.go("/contrats/BOA00009/webhook/").status == 404  # another producer's contract
