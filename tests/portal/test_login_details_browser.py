"""Login details in chromium, in French and English at phone and desktop width (axe-core checked): the e-mail
address in any case, the show-password button, the lockout's answer, password errors under their fields (first
login and forgotten password), and "Mon compte"'s recent logins and open sessions, whose "close the other
sessions" signs another browser out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from smartoa.accounts.models import User
from smartoa.accounts.services import set_language
from smartoa.audit.models import AuditEvent
from tests.browser import DESKTOP, PHONE, needs_chromium, totp_code
from tests.portal.test_journey import NEW_PASSWORD, login
from tests.portal.test_security import ready

pytestmark = needs_chromium

EVERY_VIEW = pytest.mark.parametrize(
    ("language", "width"),
    [("fr", PHONE), ("fr", DESKTOP), ("en", PHONE), ("en", DESKTOP)],
    ids=["fr-390", "fr-1280", "en-390", "en-1280"],
)
WORDS = {
    "fr": {
        "email": "Adresse e-mail",
        "password": "Mot de passe",
        "continue": "Continuer",
        "show": "Afficher",
        "hide": "Masquer",
        "locked": "l'accès est bloqué",
        "new": "Nouveau mot de passe",
        "again": "Nouveau mot de passe (confirmation)",
        "save": "Enregistrer et continuer",
        "short": "trop court",
        "mismatch": "Les deux mots de passe saisis sont différents.",
        "forgotten": "Mot de passe oublié ?",
        "send": "Envoyer le lien",
        "record": "Enregistrer",
        "succeeded": "Connexion réussie",
        "failed": "Échec : mot de passe incorrect",
        "this": "cette session",
        "close": "Fermer toutes les autres sessions",
        "closed": "1 autre session fermée.",
    },
    "en": {
        "email": "E-mail address",
        "password": "Password",
        "continue": "Continue",
        "show": "Show",
        "hide": "Hide",
        "locked": "access is blocked",
        "new": "New password",
        "again": "New password (confirmation)",
        "save": "Save and continue",
        "short": "too short",
        "mismatch": "The two passwords you typed are different.",
        "forgotten": "Forgotten password?",
        "send": "Send the link",
        "record": "Save",
        "succeeded": "Signed in",
        "failed": "Failed: incorrect password",
        "this": "this session",
        "close": "Close all other sessions",
        "closed": "1 other session closed.",
    },
}


def password_step(v, email: str, password: str, words: dict) -> None:
    v.go("/connexion/")
    v.page.get_by_label(words["email"]).fill(email)
    v.page.get_by_label(words["password"], exact=True).fill(password)
    v.page.get_by_role("button", name=words["continue"]).click()


def english(email: str) -> None:
    with transaction.atomic():
        set_language(User.objects.get(email=email), "en")


def test_an_upper_case_address_logs_in(visitor, producer):
    secret = ready("producer@example.fr")
    v = visitor(width=PHONE)
    login(v, "Producer@Example.FR", NEW_PASSWORD, totp_code(secret))
    v.page.wait_for_url(v.base_url + "/")
    assert AuditEvent.objects.filter(action="login.succeeded", user=producer).exists()


@EVERY_VIEW
def test_the_show_password_button_and_the_lockout(visitor, producer, settings, language, width):
    ready("producer@example.fr")
    words = WORDS[language]
    v = visitor(width=width, language=language)
    v.go("/connexion/")
    field = v.page.get_by_label(words["password"], exact=True)
    field.fill("wrong password")
    button = v.page.get_by_role("button", name=words["show"])
    assert button.get_attribute("aria-pressed") == "false" and field.get_attribute("type") == "password"
    button.click()
    shown = v.page.get_by_role("button", name=words["hide"])
    assert shown.get_attribute("aria-pressed") == "true" and field.get_attribute("type") == "text"
    v.check_page(f"{language}-login-password-shown")
    shown.click()
    assert field.get_attribute("type") == "password"
    for _ in range(settings.SMARTOA_LOGIN_FAILURES):
        password_step(v, "PRODUCER@example.fr", "wrong password", words)
    assert v.page.get_by_text(words["locked"]).is_visible()
    v.check_page(f"{language}-login-locked")


def test_the_page_works_without_javascript(browser, live_server, producer):
    secret = ready("producer@example.fr")
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/connexion/")
        assert page.get_by_role("button", name="Afficher").count() == 0  # no button without its script
        page.get_by_label("Adresse e-mail").fill("producer@example.fr")
        page.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
        page.get_by_role("button", name="Continuer").click()
        page.wait_for_url("**/connexion/code/")
        page.get_by_label("Code à 6 chiffres").fill(totp_code(secret))
        page.get_by_role("button", name="Valider").click()
        page.wait_for_url(live_server.url + "/")
    finally:
        context.close()


@EVERY_VIEW
def test_first_password_errors_are_under_their_fields(visitor, producer, mailbox, language, width):
    words = WORDS[language]
    if language == "en":
        english("producer@example.fr")
    v = visitor(width=width, language=language)
    password_step(v, "producer@example.fr", mailbox.provisional_password("producer@example.fr"), words)
    v.page.wait_for_url("**/connexion/mot-de-passe/")
    v.check_page(f"{language}-first-password")
    v.page.get_by_label(words["new"], exact=True).fill("short")
    v.page.get_by_label(words["again"]).fill("short")
    v.page.get_by_role("button", name=words["save"]).click()
    assert words["short"] in v.page.locator("#id_new_password1_error").inner_text()
    assert v.page.locator("#id_new_password2_error").count() == 0
    v.check_page(f"{language}-first-password-too-short")
    v.page.get_by_label(words["new"], exact=True).fill(NEW_PASSWORD)
    v.page.get_by_label(words["again"]).fill(NEW_PASSWORD + "?")
    v.page.get_by_role("button", name=words["save"]).click()
    assert v.page.locator("#id_new_password2_error").inner_text().strip() == words["mismatch"]
    assert v.page.locator("#id_new_password1_error").count() == 0
    v.check_page(f"{language}-first-password-mismatch")


@pytest.mark.parametrize(("language", "width"), [("fr", PHONE), ("en", DESKTOP)], ids=["fr-390", "en-1280"])
def test_reset_confirm_errors_are_under_their_fields(
    visitor, producer, mailbox, settings, live_server, language, width
):
    settings.BASE_URL = live_server.url
    ready("producer@example.fr")
    words = WORDS[language]
    v = visitor(width=width, language=language)
    v.go("/connexion/")
    v.page.get_by_role("link", name=words["forgotten"]).click()
    v.page.get_by_label(words["email"]).fill("Producer@Example.FR")
    v.page.get_by_role("button", name=words["send"]).click()
    v.page.wait_for_url("**/connexion/oubli/envoye/")
    link = next(line for line in mailbox.to("producer@example.fr")[-1].splitlines() if "/connexion/oubli/" in line)
    v.page.goto(link.strip())
    v.page.wait_for_url("**/set-password/")
    v.page.get_by_label(words["new"], exact=True).fill("12345678901234")
    v.page.get_by_label(words["again"]).fill("12345678901234")
    v.page.get_by_role("button", name=words["record"]).click()
    assert v.page.locator("#id_new_password1_error").is_visible()
    assert v.page.locator("#id_new_password2_error").count() == 0
    v.check_page(f"{language}-reset-confirm-refused")


@EVERY_VIEW
def test_the_account_page_lists_recent_logins_and_open_sessions(visitor, producer, language, width):
    secret = ready("producer@example.fr")
    if language == "en":
        english("producer@example.fr")
    words = WORDS[language]
    v = visitor(width=width, language=language)
    password_step(v, "producer@example.fr", "wrong password", words)
    password_step(v, "producer@example.fr", NEW_PASSWORD, words)
    v.page.wait_for_url("**/connexion/code/")
    v.page.locator("#id_code").fill(totp_code(secret))
    v.page.locator("#id_code").press("Enter")
    v.page.wait_for_url(v.base_url + "/")
    v.go("/compte/")
    logins = v.page.locator("#logins tbody tr")
    assert logins.count() == 2
    assert words["succeeded"] in logins.nth(0).inner_text() and "127.0.0.1" in logins.nth(0).inner_text()
    assert words["failed"] in logins.nth(1).inner_text()
    assert "24/11/2026" in logins.nth(0).inner_text()
    sessions = v.page.locator("#sessions li")
    assert sessions.count() == 1 and words["this"] in sessions.inner_text()
    assert v.page.get_by_role("button", name=words["close"]).count() == 0  # no other session
    v.check_page(f"{language}-account-logins-sessions")


@pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["390", "1280"])
def test_closing_the_other_sessions_signs_another_browser_out(visitor, producer, width):
    secret = ready("producer@example.fr")
    here, there = visitor(width=width), visitor(width=DESKTOP)
    login(here, "producer@example.fr", NEW_PASSWORD, totp_code(secret))
    here.page.wait_for_url(here.base_url + "/")
    # A minute later (a code works once, and the next one may already be past on a loaded machine).
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=60), tick=True):
        login(there, "producer@example.fr", NEW_PASSWORD, totp_code(secret))
        there.page.wait_for_url(there.base_url + "/")
    here.go("/compte/")
    assert here.page.locator("#sessions li").count() == 2
    here.check_page("account-two-sessions")
    here.page.get_by_role("button", name="Fermer toutes les autres sessions").click()
    here.page.wait_for_url("**/compte/#sessions")
    assert here.page.get_by_text("1 autre session fermée.").is_visible()
    assert here.page.locator("#sessions li").count() == 1
    here.check_page("account-other-sessions-closed")
    there.go("/compte/")
    assert "/connexion/" in there.page.url  # the other browser is signed out
    here.go("/")
    assert here.page.url == here.base_url + "/"  # this one is not
    assert AuditEvent.objects.filter(action="account.sessions_ended", user=producer).count() == 1
