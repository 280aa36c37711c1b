"""The sandbox's button on a contract's API access page (Django's test client): a test consigne published for the
next open day with a message saying what, for when, where it flows and that it must be acknowledged; a second
press makes a new version; refusals shown as messages; another producer's contract answers 404 with nothing
written; CSRF; absent (404) in production."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from smartoa.audit.models import AuditEvent
from smartoa.consignes.models import ConsigneVersion
from smartoa.consignes.queries import current_version
from smartoa.contracts.models import Contract
from tests.factories import paris, signed_in
from tests.portal.aggregator import NOW, TOMORROW, make_aggregator

HOST = {"HTTP_HOST": "localhost"}
URL = "/contrats/AGG00003/acces/consigne-de-test/"  # AGG00003: not published (aggregator.KINDS)


@pytest.fixture
def agg(client, settings, db):
    settings.SMARTOA_NOW = NOW
    user = make_aggregator(6)
    signed_in(client, user)
    return user


def messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def versions(contract_id: str) -> list[int]:
    return list(
        ConsigneVersion.objects.filter(contract__contract_id=contract_id, delivery_day=TOMORROW)
        .order_by("number")
        .values_list("number", flat=True)
    )


def test_the_page_offers_the_button(client, agg):
    html = re.sub(r"\s+", " ", client.get("/contrats/AGG00003/acces/", **HOST).content.decode())
    assert "Consigne de test" in html and "Elle porte sur le 25/11/2026" in html
    assert f'<form method="post" action="{URL}">' in html
    assert "Publier une consigne de test" in html and "POST /api/v1/sandbox/consigne" in html


def test_the_button_publishes_then_modifies_and_says_so(client, agg):
    response = client.post(URL, follow=True, **HOST)
    assert response.redirect_chain[-1][0] == "/contrats/AGG00003/acces/"
    assert messages(response) == [
        (
            "Consigne de test publiée pour le 25/11/2026 (version 1, arrêt 12:00–14:00). Comme une vraie, elle est "
            "servie par l'API, annoncée par le flux d'événements, le webhook et les e-mails, et doit être acquiescée "
            "avant l'HLAR (24/11/2026 à 16:30)."
        )
    ]
    contract = Contract.objects.get(contract_id="AGG00003")
    version = current_version(contract.pk, TOMORROW)
    assert version is not None and version.created_by == "aggregator@example.fr"
    event = AuditEvent.objects.get(action="consigne.sandbox")
    assert (event.contract, event.actor, event.ip, event.details["channel"]) == (
        contract,
        "aggregator@example.fr",
        "127.0.0.1",
        "portal",
    )
    assert AuditEvent.objects.get(action="consigne.published", actor="aggregator@example.fr").details["sandbox"]
    again = client.post(URL, follow=True, **HOST)
    assert "(version 2, arrêt 13:00–15:00)" in messages(again)[0]
    assert versions("AGG00003") == [1, 2]


def test_in_english(client, agg):
    client.post("/langue/", {"language": "en"}, **HOST)
    response = client.post(URL, follow=True, HTTP_ACCEPT_LANGUAGE="en", **HOST)
    assert messages(response)[0].startswith("Test consigne published for 25/11/2026 (version 1, stop 12:00–14:00).")


def test_a_refusal_is_shown(client, agg, settings):
    settings.SMARTOA_NOW = paris("2026-11-24", "16:00")  # the 25th is closed: the 26th is the next open day
    assert "le 26/11/2026 (version 1," in messages(client.post(URL, follow=True, **HOST))[0]
    settings.SMARTOA_SANDBOX_PER_HOUR = 1
    assert messages(client.post(URL, follow=True, **HOST)) == [
        "Au plus 1 consignes de test par contrat et par heure ; la prochaine peut être demandée le 24/11/2026 à 17:00"
    ]
    assert AuditEvent.objects.filter(action="consigne.sandbox").count() == 1


def test_another_producers_contract_answers_404(client, agg):
    before = (ConsigneVersion.objects.count(), AuditEvent.objects.count())
    assert client.post("/contrats/OTHER00001/acces/consigne-de-test/", **HOST).status_code == 404
    assert client.post("/contrats/NOPE/acces/consigne-de-test/", **HOST).status_code == 404
    assert (ConsigneVersion.objects.count(), AuditEvent.objects.count()) == before


def test_it_needs_its_csrf_token(agg):
    strict = Client(enforce_csrf_checks=True)
    signed_in(strict, agg)
    assert strict.post(URL, **HOST).status_code == 403
    assert versions("AGG00003") == []


def test_absent_in_production(client, agg, settings):
    settings.PRODUCTION = True
    settings.SMARTOA_ENV = "production"
    assert "Consigne de test" not in client.get("/contrats/AGG00003/acces/", **HOST).content.decode()
    assert client.post(URL, **HOST).status_code == 404
    assert versions("AGG00003") == [] and not AuditEvent.objects.filter(action="consigne.sandbox").exists()
