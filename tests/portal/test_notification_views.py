"""The notification pages through Django's test client: a contract the account does not hold answers 404 on every
route (and an address of another contract too); the confirmation page is the only one open without an account
(its URL and nothing else under it), before or at any login step, and confirms only on POST; refused input shows
its error under the field, nothing written; CSRF is required."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client

from smartoa.accounts.models import User
from smartoa.audit.models import AuditEvent
from smartoa.notifications import preferences
from smartoa.notifications.models import AccountPreference, ContractReminderChoice, ExtraAddress
from smartoa.notifications.preferences import ReminderChoice
from tests.factories import add_account, clock, emails, paris, signed_in

NOW = paris("2026-11-24", "10:00")


@pytest.fixture
def setup(db, make_contract, settings, client):
    """a@ holds BOA00001 (signed in on ``client``); other@ holds BOA00009, which has the extra address
    salle@ (unconfirmed)."""
    settings.SMARTOA_NOW = NOW
    mine, theirs = make_contract("BOA00001"), make_contract("BOA00009")
    user = add_account(mine, "a@example.fr")
    add_account(theirs, "other@example.fr")
    with transaction.atomic():
        address = preferences.add_address(
            theirs, "salle@example.fr", language="fr", reminders=ReminderChoice(), actor="other@example.fr"
        )
    signed_in(client, user)
    return mine, theirs, user, address


def token_of(address: str) -> str:
    body = [m.body for m in emails(event="address.confirmation", recipient=address)][-1]
    return re.search(r"/notifications/confirmer/(\S+)/", body).group(1)


def test_a_contract_not_held_answers_404_on_every_route(setup, client):
    _, theirs, _, address = setup
    base = "/contrats/BOA00009/notifications/"
    assert client.get(base).status_code == 404
    assert client.get("/contrats/NOPE0000/notifications/").status_code == 404
    assert client.post(base + "rappel/", {"reminder": "off"}).status_code == 404
    assert (
        client.post(base + "adresses/", {"email": "x@example.fr", "language": "fr", "reminder": "default"}).status_code
        == 404
    )
    for action in ("renvoyer", "rappel", "retirer"):
        assert client.post(f"{base}adresses/{address.pk}/{action}/", {"reminder": "off"}).status_code == 404
    assert ExtraAddress.objects.filter(contract=theirs).count() == 1
    assert not ContractReminderChoice.objects.exists()
    assert not AuditEvent.objects.filter(actor="a@example.fr", action__startswith="extra_address").exists()


def test_an_address_of_another_contract_answers_404_from_a_held_one(setup, client):
    _, _, _, address = setup
    for action in ("renvoyer", "rappel", "retirer"):
        response = client.post(f"/contrats/BOA00001/notifications/adresses/{address.pk}/{action}/", {"reminder": "off"})
        assert response.status_code == 404
    address.refresh_from_db()
    assert address.reminders is True and ExtraAddress.objects.count() == 1


def test_the_tab_adds_an_address_and_refuses_a_bad_one_under_its_field(setup, client):
    mine, _, _, _ = setup
    page = client.get("/contrats/BOA00001/notifications/")
    assert page.status_code == 200 and 'aria-current="page">Notifications</a>' in page.text
    refused = client.post(
        "/contrats/BOA00001/notifications/adresses/", {"email": "pas-une-adresse", "language": "fr", "reminder": "60"}
    )
    assert refused.status_code == 400
    assert re.search(
        r'id="id_email".*?<div class="error" id="id_email_error" role="alert"><p>[^<]*adresse e-mail',
        refused.text,
        re.DOTALL,
    )
    assert not ExtraAddress.objects.filter(contract=mine).exists()
    added = client.post(
        "/contrats/BOA00001/notifications/adresses/", {"email": "Salle@example.fr", "language": "en", "reminder": "60"}
    )
    assert added.status_code == 302 and added["Location"] == "/contrats/BOA00001/notifications/"
    created = ExtraAddress.objects.get(contract=mine)
    assert (created.email, created.language, created.reminder_minutes) == ("salle@example.fr", "en", 60)
    duplicate = client.post(
        "/contrats/BOA00001/notifications/adresses/", {"email": "salle@example.fr", "language": "fr", "reminder": "off"}
    )
    assert duplicate.status_code == 400 and "déjà dans la liste de BOA00001" in duplicate.text
    event = AuditEvent.objects.get(action="extra_address.added", contract=mine)
    assert (event.actor, event.ip) == ("a@example.fr", "127.0.0.1")


def test_a_tampered_choice_is_refused(setup, client):
    response = client.post("/compte/notifications/", {"publications": "on", "reminder": "45"})
    assert response.status_code == 400 and 'id="id_reminder_error"' in response.text
    assert not AccountPreference.objects.exists()
    response = client.post("/contrats/BOA00001/notifications/rappel/", {"reminder": "1440"})
    assert response.status_code == 400 and not ContractReminderChoice.objects.exists()


def test_the_account_choices_are_saved(setup, client):
    _, _, user, _ = setup
    response = client.post("/compte/notifications/", {"reminder": "240"})  # the box unticked: no publications
    assert response.status_code == 302 and response["Location"] == "/compte/"
    assert preferences.account_choices(user) == preferences.AccountChoices(False, ReminderChoice(True, 240))
    page = client.get("/compte/")
    assert 'id="notifications"' in page.text and '<option value="240" selected>' in page.text
    assert "Vous ne recevez ni les publications" not in page.text
    client.post("/compte/notifications/", {"reminder": "off"})
    assert "Vous ne recevez ni les publications ni les rappels" in client.get("/compte/").text


def test_csrf_is_required(setup):
    _, _, user, _ = setup
    strict = Client(enforce_csrf_checks=True)
    signed_in(strict, user)
    assert strict.post("/compte/notifications/", {"reminder": "off"}).status_code == 403
    assert (
        strict.post(
            "/contrats/BOA00001/notifications/adresses/", {"email": "x@example.fr", "language": "fr", "reminder": "off"}
        ).status_code
        == 403
    )
    anonymous = Client(enforce_csrf_checks=True)
    token = token_of("salle@example.fr")
    assert anonymous.post(f"/notifications/confirmer/{token}/").status_code == 403
    assert ExtraAddress.objects.get().confirmed_at is None and not AccountPreference.objects.exists()


def test_the_confirmation_page_is_open_without_an_account_and_confirms_on_post_only(setup):
    _, theirs, _, _ = setup
    anonymous = Client()
    token = token_of("salle@example.fr")
    page = anonymous.get(f"/notifications/confirmer/{token}/")
    assert page.status_code == 200 and "salle@example.fr" in page.text and "BOA00009" in page.text
    assert page["Cache-Control"] == "no-store"
    assert ExtraAddress.objects.get().confirmed_at is None  # opening the link (a mail scanner) confirms nothing
    done = anonymous.post(f"/notifications/confirmer/{token}/", REMOTE_ADDR="90.1.2.3")
    assert done.status_code == 200 and "Adresse confirmée" in done.text
    assert ExtraAddress.objects.get().confirmed_at == NOW
    event = AuditEvent.objects.get(action="extra_address.confirmed")
    assert (event.actor, event.ip, event.contract_id) == ("salle@example.fr", "90.1.2.3", theirs.pk)
    again = anonymous.post(f"/notifications/confirmer/{token}/")
    assert again.status_code == 404 and "Lien non valable" in again.text and "déjà servi" in again.text


def test_a_forged_or_expired_link_is_refused_with_a_page(setup):
    anonymous = Client()
    assert anonymous.get("/notifications/confirmer/" + "A" * 43 + "/").status_code == 404
    token = token_of("salle@example.fr")
    with clock(NOW + preferences.LINK_LIFETIME + timedelta(minutes=1)):
        expired = anonymous.get(f"/notifications/confirmer/{token}/")
        assert expired.status_code == 410 and "Lien expiré" in expired.text and "26/11/2026 à 10:00" in expired.text
        assert anonymous.post(f"/notifications/confirmer/{token}/").status_code == 410
    assert ExtraAddress.objects.get().confirmed_at is None


@pytest.mark.parametrize(
    "path",
    [
        "/notifications/",
        "/compte/notifications/",
        "/contrats/BOA00009/notifications/",
        "/contrats/BOA00009/notifications/adresses/1/retirer/",
    ],
)
def test_nothing_else_is_open_without_an_account(setup, path):
    anonymous = Client()
    for response in (anonymous.get(path), anonymous.post(path, {"reminder": "off"})):
        assert response.status_code == 302 and response["Location"].startswith("/connexion/")
    assert ExtraAddress.objects.count() == 1 and not AccountPreference.objects.exists()


@pytest.mark.parametrize("path", ["/notifications/confirmer/", "/notifications/confirmer/x/compte/"])
def test_under_the_open_prefix_only_the_confirmation_page_exists(setup, path):
    assert Client().get(path).status_code == 404


def test_the_confirmation_page_works_at_any_login_step(setup):
    user = User.objects.get(email="other@example.fr")  # its provisional password still to change
    half = Client()
    half.force_login(user)
    assert half.get("/").status_code == 302  # the portal sends it to its login step…
    token = token_of("salle@example.fr")
    assert half.get(f"/notifications/confirmer/{token}/").status_code == 200  # … but the link works
