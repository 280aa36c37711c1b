"""The portal's refusals, in chromium: a wrong code, the lockout and its end, another account's contract, the
admin without a second factor, the forgotten password (e-mailed through the outbox) that still asks for the code,
the lost authenticator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.db import transaction

from smartoa.accounts.models import User
from smartoa.accounts.security import confirm_totp, new_secret, reset_second_factor, set_password
from smartoa.audit.models import AuditEvent
from tests.browser import needs_chromium, totp_code
from tests.portal.test_journey import NEW_PASSWORD, first_login, login

pytestmark = needs_chromium


def ready(email: str, *, staff: bool = False) -> str:
    """An account past its first login; returns its TOTP secret (base32)."""
    from smartoa.accounts.roles import ADMINISTRATEUR
    from smartoa.accounts.security import base32_secret
    from smartoa.accounts.services import create_account

    with transaction.atomic():
        role = ADMINISTRATEUR if staff else None
        user = User.objects.filter(email=email).first() or create_account(email, actor="test", role=role)
        set_password(user, NEW_PASSWORD, ip=None)
        secret = new_secret()
        confirm_totp(user, secret, totp_code(base32_secret(secret), steps_ahead=-1), ip=None)
    return base32_secret(secret)


def test_a_wrong_code_is_refused_and_throttled(visitor, producer):
    secret = ready("producer@example.fr")
    v = visitor()
    login(v, "producer@example.fr", NEW_PASSWORD, "000000" if totp_code(secret) != "000000" else "111111")
    assert v.page.get_by_text("Code incorrect ou déjà utilisé.").is_visible()
    v.check_page("verify-wrong")
    v.page.get_by_label("Code à 6 chiffres").fill("123456")
    v.page.get_by_role("button", name="Valider").click()
    assert v.page.get_by_text("Trop d'essais").is_visible() or v.page.get_by_text("Code incorrect").is_visible()
    v.go("/")  # nothing of the portal before the code
    assert v.page.url.endswith("/connexion/code/")
    assert AuditEvent.objects.filter(action__in=["totp.failed", "totp.throttled"]).count() >= 2


def test_lockout_after_repeated_failures_and_its_end(visitor, producer, settings):
    ready("producer@example.fr")
    v = visitor()
    for _ in range(settings.SMARTOA_LOGIN_FAILURES):
        v.go("/connexion/")
        v.page.get_by_label("Adresse e-mail").fill("producer@example.fr")
        v.page.get_by_label("Mot de passe").fill("wrong password")
        v.page.get_by_role("button", name="Continuer").click()
    assert v.page.get_by_text("l'accès est bloqué").is_visible()
    v.check_page("login-locked")
    v.go("/connexion/")  # even the right password is refused while locked
    v.page.get_by_label("Adresse e-mail").fill("producer@example.fr")
    v.page.get_by_label("Mot de passe").fill(NEW_PASSWORD)
    v.page.get_by_role("button", name="Continuer").click()
    assert v.page.get_by_text("l'accès est bloqué").is_visible()
    assert AuditEvent.objects.filter(action="login.locked_out").exists()
    later = datetime.now(UTC) + timedelta(minutes=settings.SMARTOA_LOCKOUT_MINUTES + 1)
    with time_machine.travel(later, tick=True):
        v.go("/connexion/")
        v.page.get_by_label("Adresse e-mail").fill("producer@example.fr")
        v.page.get_by_label("Mot de passe").fill(NEW_PASSWORD)
        v.page.get_by_role("button", name="Continuer").click()
        v.page.wait_for_url("**/connexion/code/")


def test_another_accounts_contract_answers_404(visitor, producer):
    secret = ready("producer@example.fr")
    v = visitor()
    login(v, "producer@example.fr", NEW_PASSWORD, totp_code(secret))
    v.page.wait_for_url(v.base_url + "/")
    for path in (
        "/contrats/BOA00009/",
        "/contrats/BOA00009/acces/",
        "/contrats/NOPE1234/",
        "/contrats/BOA00009/jeton/",
    ):
        assert v.go(path).status == 404, path
    response = v.page.request.post(v.base_url + "/contrats/BOA00009/jours/2026-11-25/acquiescer/")
    assert response.status in (403, 404)  # no CSRF token: refused before anything; never a 200


def test_the_admin_refuses_a_staff_account_without_its_code(visitor, transactional_db, mailbox):
    from smartoa.accounts.roles import ADMINISTRATEUR
    from smartoa.accounts.services import create_account

    with transaction.atomic():
        create_account("ops@example.org", actor="test", role=ADMINISTRATEUR)
    v = visitor()
    v.go("/admin/")
    assert "/connexion/" in v.page.url  # the admin's login is the portal's
    first_password = mailbox.provisional_password("ops@example.org")
    v.page.get_by_label("Adresse e-mail").fill("ops@example.org")
    v.page.get_by_label("Mot de passe").fill(first_password)
    v.page.get_by_role("button", name="Continuer").click()
    v.page.wait_for_url("**/connexion/mot-de-passe/")
    v.go("/admin/")
    assert v.page.url.endswith("/connexion/mot-de-passe/")  # no admin before password and TOTP
    v.go("/backoffice/curves/upload/")
    assert v.page.url.endswith("/connexion/mot-de-passe/")
    secret = first_login_rest(v)
    v.go("/admin/")
    assert v.page.get_by_text("Administration").first.is_visible()
    assert secret


def first_login_rest(v) -> str:
    page = v.page
    page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nouveau mot de passe (confirmation)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_url("**/connexion/authentificateur/")
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code à 6 chiffres").fill(totp_code(secret))
    page.get_by_role("button", name="Confirmer").click()
    page.wait_for_url("**/compte/codes-de-secours/")
    return secret


def test_forgotten_password_then_the_code_is_still_asked(visitor, producer, mailbox, settings, live_server):
    settings.BASE_URL = live_server.url  # the link in the e-mail
    secret = ready("producer@example.fr")
    v = visitor()
    v.go("/connexion/")
    v.page.get_by_role("link", name="Mot de passe oublié ?").click()
    v.check_page("reset-request")
    v.page.get_by_label("Adresse e-mail").fill("Producer@Example.FR")  # in any case
    v.page.get_by_role("button", name="Envoyer le lien").click()
    v.page.wait_for_url("**/connexion/oubli/envoye/")
    v.check_page("reset-sent")
    link = next(line for line in mailbox.to("producer@example.fr")[-1].splitlines() if "/connexion/oubli/" in line)
    v.page.goto(link.strip())
    v.page.wait_for_url("**/set-password/")
    v.check_page("reset-confirm")
    v.page.get_by_label("Nouveau mot de passe", exact=True).fill("Another-Long-Password-7")
    v.page.get_by_label("Nouveau mot de passe (confirmation)").fill("Another-Long-Password-7")
    v.page.get_by_role("button", name="Enregistrer").click()
    v.page.wait_for_url("**/connexion/oubli/termine/")
    v.check_page("reset-done")
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=60), tick=True):
        login(v, "producer@example.fr", "Another-Long-Password-7", totp_code(secret))
        v.page.wait_for_url(v.base_url + "/")
    assert AuditEvent.objects.filter(action="password.reset").exists()


def test_a_lost_authenticator_goes_through_the_operator(visitor, producer, mailbox):
    ready("producer@example.fr")
    v = visitor()
    v.go("/connexion/appareil-perdu/")
    v.check_page("lost-device")
    assert v.page.get_by_text("smart-oa-contact-technique@edf.fr").first.is_visible()
    with transaction.atomic():  # the operator, after checking who asks
        reset_second_factor(User.objects.get(email="producer@example.fr"), actor="ops@example.org")
    first_login(v, "producer@example.fr", mailbox.provisional_password("producer@example.fr"))
    v.page.wait_for_url(v.base_url + "/")
    assert AuditEvent.objects.filter(action="totp.reset", actor="ops@example.org").exists()
