"""A new account's first steps, as a new producer lives them: the e-mailed provisional password works until the
date the e-mail gives (then the login says it expired, and only to someone who typed it), and the authenticator's
QR code scans on a desktop and on a phone (where a link opens the app instead), in French and in English."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smartoa.accounts.models import User
from tests.browser import DESKTOP, PHONE, decode_qr, needs_chromium
from tests.portal.conftest import NOW

pytestmark = needs_chromium


def submit_login(v, email, password, *, english=False):
    v.go("/connexion/")
    page = v.page
    page.get_by_label("E-mail address" if english else "Adresse e-mail").fill(email)
    page.get_by_label("Password" if english else "Mot de passe").fill(password)
    page.get_by_role("button", name="Continue" if english else "Continuer").click()
    page.wait_for_load_state()


@pytest.mark.parametrize(("language", "width"), [("fr", PHONE), ("en", DESKTOP)])
def test_an_expired_provisional_password_says_so_and_points_to_the_reset(
    visitor, producer, mailbox, settings, language, width
):
    password = mailbox.provisional_password("producer@example.fr")
    until = User.objects.get(email="producer@example.fr").provisional_until
    assert until == NOW + timedelta(days=settings.SMARTOA_PROVISIONAL_PASSWORD_DAYS)
    settings.SMARTOA_NOW = until + timedelta(minutes=1)
    v = visitor(width=width, language=language)
    english = language == "en"
    submit_login(v, "producer@example.fr", password, english=english)
    shown = until.astimezone(NOW.tzinfo).strftime("%d/%m/%Y")
    text = v.page.locator("main").inner_text()
    if english:
        assert f"This provisional password expired on {shown} at 10:00." in text
    else:
        assert f"Ce mot de passe provisoire n'est plus valable depuis le {shown} à 10:00." in text
    v.check_page(f"login-provisional-expired-{language}")
    assert "/connexion/" in v.page.url  # not signed in
    # A wrong password gets the usual answer: nothing tells a stranger about the account.
    submit_login(v, "producer@example.fr", "not the password", english=english)
    text = v.page.locator("main").inner_text()
    assert "provisoire" not in text and "provisional" not in text


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_the_qr_code_scans_in_english_too(visitor, producer, mailbox, width):
    v = visitor(width=width, language="en")
    # (the browser asks for English: the pages follow it until the account chooses)
    submit_login(v, "producer@example.fr", mailbox.provisional_password("producer@example.fr"), english=True)
    page = v.page
    page.get_by_role("button", name="English").click()  # the account's language (new accounts start in French)
    page.get_by_label("New password", exact=True).fill("Correct-Horse-Battery-42")
    page.get_by_label("New password (confirmation)").fill("Correct-Horse-Battery-42")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/connexion/authentificateur/")
    shot = v.check_page("enrol-en")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    link = page.locator("a[href^='otpauth:']")
    assert decode_qr(shot) == [link.get_attribute("href")]
    assert f"secret={secret}&" in link.get_attribute("href")
    assert link.is_visible() == (width == PHONE)
    if width == PHONE:
        assert page.get_by_role("link", name="Open in the authenticator app").is_visible()
