"""The producer's journey in chromium, as the webinar deck's "Parcours utilisateur" describes it: the e-mailed
provisional password, a new password, the authenticator (TOTP) with its backup codes, the Contrats page, then the
first acknowledgment; every later login asks for the password and a code, and a code works once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from smartoa.audit.models import AuditEvent
from smartoa.consignes.models import Acknowledgment
from tests.browser import PHONE, decode_qr, needs_chromium, totp_code

pytestmark = needs_chromium

NEW_PASSWORD = "Correct-Horse-Battery-42"


def first_login(v, email, password) -> str:
    """Log in for the first time; returns the TOTP secret read on the enrolment page."""
    page = v.page
    v.go("/")
    assert "/connexion/" in page.url
    v.check_page("login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/connexion/mot-de-passe/")
    v.check_page("first-password")
    page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nouveau mot de passe (confirmation)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_url("**/connexion/authentificateur/")
    shot = v.check_page("enrol")
    secret = page.locator("#totp-secret").inner_text()
    # The QR code on the screen is whole and scannable, and gives the shown key (and nothing else).
    uri = page.locator("a[href^='otpauth:']").get_attribute("href")
    assert decode_qr(shot) == [uri]
    assert f"secret={secret.replace(' ', '')}&" in uri and uri.startswith("otpauth://totp/SMART%20OA%3A")
    # On a phone the code cannot be scanned by the phone showing it: a link opens the authenticator app.
    assert page.get_by_role("link", name="Ouvrir dans l'application d'authentification").is_visible() == (
        v.width == PHONE
    )
    v.enrol_code = totp_code(secret)
    page.get_by_label("Code à 6 chiffres").fill(v.enrol_code)
    page.get_by_role("button", name="Confirmer").click()
    page.wait_for_url("**/compte/codes-de-secours/")
    v.check_page("backup-codes")
    assert page.locator("#backup-codes li").count() == 10
    page.get_by_role("link", name="J'ai conservé mes codes, continuer").click()
    return secret


def login(v, email, password, code):
    page = v.page
    v.go("/connexion/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/connexion/code/")
    page.get_by_label("Code à 6 chiffres").fill(code)
    page.get_by_role("button", name="Valider").click()


def test_from_the_emailed_password_to_the_first_acknowledgment(visitor, producer, mailbox):
    v = visitor()
    page = v.page
    secret = first_login(v, "producer@example.fr", mailbox.provisional_password("producer@example.fr"))
    page.wait_for_url(v.base_url + "/")
    v.check_page("contracts")
    assert page.get_by_text("BOA00001").first.is_visible() and page.get_by_text("BOA00002").first.is_visible()
    assert page.get_by_text("BOA00009").count() == 0  # another producer's contract
    assert page.locator("table.contracts-table .badge.todo").all_inner_texts() == ["À acquiescer", "À acquiescer"]
    page.get_by_role("link", name="BOA00001", exact=True).click()
    page.wait_for_url("**/contrats/BOA00001/")
    v.check_page("contract")
    day = page.locator("#day-2026-11-25")
    assert "Arrêt 11:55–18:00" in day.inner_text()
    assert "25/11/2026" in day.inner_text() or "24/11/2026 à 16:30" in day.inner_text()
    day.get_by_role("button", name="Acquiescer la version 1").click()
    page.locator("#day-2026-11-25 .badge.done").wait_for()
    assert "Acquiescée — version 1" in page.locator("#day-2026-11-25").inner_text()
    ack = Acknowledgment.objects.get()
    assert (ack.version.number, ack.channel, ack.user.email, ack.ip) == (
        1,
        "portal",
        "producer@example.fr",
        "127.0.0.1",
    )
    assert v.problems == []

    # Later logins: password then a code; the code of the enrolment cannot be used twice.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion/")
    login(v, "producer@example.fr", NEW_PASSWORD, v.enrol_code)
    assert page.get_by_text("Code incorrect ou déjà utilisé.").is_visible()  # replayed
    v.check_page("verify-refused")
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=60), tick=True):
        page.get_by_label("Code à 6 chiffres").fill(totp_code(secret))
        page.get_by_role("button", name="Valider").click()
        page.wait_for_url(v.base_url + "/")
    actions = set(AuditEvent.objects.filter(user__email="producer@example.fr").values_list("action", flat=True))
    assert {
        "password.changed",
        "totp.enrolled",
        "totp.verified",
        "totp.failed",
        "logout",
        "consigne.acknowledged",
    } <= actions


def test_the_phone_width_journey_has_no_sideways_scrolling(visitor, producer, mailbox):
    v = visitor(width=PHONE)
    first_login(v, "producer@example.fr", mailbox.provisional_password("producer@example.fr"))
    v.page.wait_for_url(v.base_url + "/")
    v.check_page("contracts")
    v.go("/contrats/BOA00001/")
    v.check_page("contract")
