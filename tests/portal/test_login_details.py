"""Login details, through the real views (Django's test client): the e-mail address in any case, the lockout of
an account apart from its address, what the audit log keeps of a mistyped e-mail field, the forgotten password
through the outbox (also while the mail server is down), password errors under their fields, and the account's
recent logins and open sessions."""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from html import unescape

import pytest
from django.db import transaction
from django.test import Client

from smartoa.accounts.models import AccountSession, User
from smartoa.accounts.security import NOT_AN_EMAIL
from smartoa.accounts.services import set_language
from smartoa.audit.models import AuditEvent
from smartoa.notifications.models import OutboxMessage
from tests.browser import totp_code
from tests.factories import clock, deliver_outbox
from tests.notifications.test_smtp import SmtpServer
from tests.notifications.test_smtp import smtp as smtp  # the loopback SMTP server fixture
from tests.portal.test_journey import NEW_PASSWORD
from tests.portal.test_security import ready

OFFICE = "80.12.34.56"  # one company's address (its NAT)
ELSEWHERE = "2a01:e0a:1:2::7"
LOCKED = "l'accès est bloqué"


@pytest.fixture
def accounts(db, clock):
    """Two colleagues' accounts past their first login: {email: TOTP secret}."""
    return {email: ready(email) for email in ("producteur@example.fr", "collegue@example.fr")}


def password_step(client: Client, email: str, password: str = NEW_PASSWORD, *, ip: str = OFFICE):
    return client.post("/connexion/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def log_in(email: str, secret: str, *, ip: str = OFFICE, steps_ahead: int = 0) -> Client:
    """A client signed in as ``email`` through both steps (the code of ``steps_ahead`` steps from now)."""
    client = Client()
    assert password_step(client, email, ip=ip).url == "/connexion/code/"
    response = client.post("/connexion/code/", {"code": totp_code(secret, steps_ahead=steps_ahead)}, REMOTE_ADDR=ip)
    assert response.status_code == 302 and response.url == "/", response.content.decode()[:2000]
    return client


def field_errors(html: str, field: str) -> str:
    """The text of the error block shown under ``field`` (empty if none)."""
    found = re.search(rf'<div class="error" id="id_{field}_error"[^>]*>(.*?)</div>', html, re.DOTALL)
    return unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


# --- the e-mail address in any case ---------------------------------------------------------------------------


def test_an_upper_case_address_logs_in(accounts):
    client = log_in("Producteur@Example.FR", accounts["producteur@example.fr"])
    assert client.get("/compte/").context["user"].email == "producteur@example.fr"
    assert AuditEvent.objects.filter(action="login.succeeded", user__email="producteur@example.fr").exists()


def test_failures_in_any_case_count_for_one_account(accounts, settings):
    client = Client()
    for n in range(settings.SMARTOA_LOGIN_FAILURES):
        email = "PRODUCTEUR@example.fr" if n % 2 else "producteur@EXAMPLE.fr"
        response = password_step(client, email, "wrong password")
    assert response.status_code == 429
    assert password_step(Client(), "producteur@example.fr", ip=ELSEWHERE).status_code == 429


# --- lockout: the account, then the address -------------------------------------------------------------------


def test_a_locked_account_does_not_lock_its_colleagues_behind_the_same_address(accounts, settings):
    for _ in range(settings.SMARTOA_LOGIN_FAILURES - 1):
        assert password_step(Client(), "producteur@example.fr", "wrong password").status_code == 400
    response = password_step(Client(), "producteur@example.fr", "wrong password")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    # The account is locked wherever it is tried from, even with its password ...
    assert password_step(Client(), "producteur@example.fr", ip=ELSEWHERE).status_code == 429
    # ... but its colleague, behind the same address, logs in.
    log_in("collegue@example.fr", accounts["collegue@example.fr"])
    assert AuditEvent.objects.filter(action="login.locked_out", user__email="producteur@example.fr").exists()


def test_the_address_is_locked_after_many_more_failures_across_accounts(accounts, settings):
    settings.SMARTOA_LOGIN_FAILURES_PER_ADDRESS = 8
    for n in range(7):  # one failure on each of 7 accounts: none of them is locked, nor the address yet
        assert password_step(Client(), f"someone{n}@example.fr", "guess").status_code == 400
    assert password_step(Client(), "someone7@example.fr", "guess").status_code == 429
    response = password_step(Client(), "collegue@example.fr")  # the right password, from the locked address
    assert response.status_code == 429 and LOCKED in response.content.decode()
    log_in("collegue@example.fr", accounts["collegue@example.fr"], ip=ELSEWHERE)  # from elsewhere: fine


def test_a_success_clears_the_accounts_failures_not_the_addresses(accounts, settings):
    settings.SMARTOA_LOGIN_FAILURES, settings.SMARTOA_LOGIN_FAILURES_PER_ADDRESS = 5, 8
    for _ in range(4):
        assert password_step(Client(), "producteur@example.fr", "wrong password").status_code == 400
    log_in("producteur@example.fr", accounts["producteur@example.fr"])
    for _ in range(3):  # the account starts again from zero (3 of 5) ...
        assert password_step(Client(), "producteur@example.fr", "wrong password").status_code == 400
    # ... while the address counts its 8th failure: locked.
    assert password_step(Client(), "collegue@example.fr", "wrong password").status_code == 429


def test_the_lockout_answer_does_not_tell_whether_the_account_exists(accounts, settings):
    def locked_answer(email: str) -> str:
        for _ in range(settings.SMARTOA_LOGIN_FAILURES):
            response = password_step(Client(), email, "wrong password", ip=ELSEWHERE)
        assert response.status_code == 429
        return re.search(r'<div class="alert error" role="alert">(.*?)</div>', response.content.decode(), re.DOTALL)[1]

    assert locked_answer("producteur@example.fr") == locked_answer("nobody@example.fr")
    assert "compte" not in locked_answer("collegue@example.fr")


# --- what the audit log keeps of the e-mail field --------------------------------------------------------------


@pytest.mark.parametrize("typed", ["abcd-efgh-jkmn", NEW_PASSWORD, "Correct Horse@", "  ", "a" * 300])
def test_a_failed_login_does_not_store_what_is_not_an_email_address(accounts, typed):
    assert password_step(Client(), typed, "whatever").status_code == 400
    event = AuditEvent.objects.get(action="login.failed")
    assert (event.actor, event.user, event.ip) == (NOT_AN_EMAIL, None, OFFICE)
    if typed.strip():
        stored = list(AuditEvent.objects.values_list("actor", "details"))
        assert typed.strip() not in repr(stored)


def test_a_failed_login_stores_the_address_and_names_its_account(accounts):
    assert password_step(Client(), " Producteur@Example.FR ", "wrong password").status_code == 400
    event = AuditEvent.objects.get(action="login.failed")
    assert (event.actor, event.user.email) == ("producteur@example.fr", "producteur@example.fr")
    password_step(Client(), "nobody@example.fr", "wrong password")
    assert AuditEvent.objects.filter(action="login.failed", actor="nobody@example.fr", user=None).exists()


# --- the forgotten password, through the outbox ----------------------------------------------------------------


def ask_reset(email: str, *, ip: str = OFFICE):
    response = Client().post("/connexion/oubli/", {"email": email}, REMOTE_ADDR=ip)
    assert (response.status_code, response.url) == (302, "/connexion/oubli/envoye/")
    return response


def reset_link(body: str) -> str:
    return next(line.strip() for line in body.splitlines() if "/connexion/oubli/" in line)


def test_an_upper_case_address_gets_its_reset_email_through_the_outbox(
    accounts, mailbox, django_capture_on_commit_callbacks, settings
):
    settings.BASE_URL = "https://portail.example.fr"
    with transaction.atomic():
        set_language(User.objects.get(email="collegue@example.fr"), "en")
    with django_capture_on_commit_callbacks(execute=True):
        ask_reset("Producteur@Example.FR")
        ask_reset("COLLEGUE@example.fr")
    (message,) = OutboxMessage.objects.filter(event="password.reset", recipient="producteur@example.fr")
    assert (message.status, message.sensitive, message.context) == ("delivered", True, {})  # the link is not kept
    french = mailbox.to("producteur@example.fr")[-1]
    link = reset_link(french)
    assert link.startswith("https://portail.example.fr/connexion/oubli/")
    assert "Pour choisir un nouveau mot de passe" in french
    assert "To choose a new SMART OA password" in mailbox.to("collegue@example.fr")[-1]
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in mailbox.messages()]
    assert subjects == ["SMART OA — nouveau mot de passe", "SMART OA — new password"]

    client = Client()
    form = client.get(link.removeprefix("https://portail.example.fr"), follow=True)
    assert form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Another-Long-Password-7", "new_password2": "Another-Long-Password-7"},
    )
    assert done.url == "/connexion/oubli/termine/"
    assert User.objects.get(email="producteur@example.fr").check_password("Another-Long-Password-7")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor"))
    assert ("password.reset_requested", "producteur@example.fr") in actions
    assert ("password.reset_emailed", "producteur@example.fr") in actions
    assert ("password.reset", "producteur@example.fr") in actions


def test_an_unknown_address_gets_the_same_answer_and_no_email(accounts, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        known = ask_reset("producteur@example.fr")
        unknown = ask_reset("nobody@example.fr")
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert OutboxMessage.objects.filter(event="password.reset").count() == 1
    assert mailbox.to("nobody@example.fr") == []
    assert AuditEvent.objects.filter(action="password.reset_requested", actor="nobody@example.fr").exists()
    assert not AuditEvent.objects.filter(action="password.reset_emailed", actor="nobody@example.fr").exists()


def test_a_deactivated_account_gets_no_reset_email(accounts, mailbox, django_capture_on_commit_callbacks):
    from smartoa.accounts.services import set_account_active

    with transaction.atomic():
        set_account_active(User.objects.get(email="producteur@example.fr"), False, actor="test")
    with django_capture_on_commit_callbacks(execute=True):
        ask_reset("producteur@example.fr")
    assert not OutboxMessage.objects.filter(event="password.reset").exists()


def test_reset_requests_are_rate_limited_per_address(accounts, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(7):
            ask_reset("producteur@example.fr")
        ask_reset("producteur@example.fr", ip=ELSEWHERE)
    assert OutboxMessage.objects.filter(event="password.reset").count() == 5 + 1
    assert AuditEvent.objects.filter(action="password.reset_throttled", ip=OFFICE).count() == 2


def test_the_reset_email_waits_for_a_mail_server_that_is_down(accounts, smtp, django_capture_on_commit_callbacks):
    smtp.stop()
    with django_capture_on_commit_callbacks(execute=True):
        ask_reset("Producteur@Example.FR")  # written to the outbox; its delivery fails at once
    (message,) = OutboxMessage.objects.filter(event="password.reset")
    assert message.status == "pending" and "ConnectionRefusedError" in message.last_error
    assert message.context["token"]  # kept until it is delivered
    server = SmtpServer(smtp.port).start()
    try:
        with clock(message.next_attempt_at):
            assert deliver_outbox() == {"delivered": 1}
    finally:
        server.stop()
    ((to, email),) = server.mailbox.messages
    assert to == ["producteur@example.fr"] and "/connexion/oubli/" in server.mailbox.body(email)
    message.refresh_from_db()
    assert (message.status, message.context) == ("delivered", {})


def test_an_unreachable_queue_writes_the_reset_email_at_once(accounts, monkeypatch, caplog):
    from smartoa.accounts import jobs

    def unreachable(*args):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(jobs, "password_reset", unreachable)
    jobs.queue_password_reset("producteur@example.fr", OFFICE)
    (message,) = OutboxMessage.objects.filter(event="password.reset")
    assert message.recipient == "producteur@example.fr" and message.context["uid"]
    assert "could not queue" in caplog.text


# --- password errors under their fields --------------------------------------------------------------------------


@pytest.fixture
def first_login(db, clock):
    """A client past the password step of a new account (its provisional password to replace)."""
    from smartoa.accounts.services import create_account

    with transaction.atomic():
        user = create_account("nouveau@example.fr", actor="test")
    client = Client()
    client.force_login(user)
    return client, user


def test_first_password_errors_are_under_the_field_they_concern(first_login):
    client, _ = first_login
    short = client.post("/connexion/mot-de-passe/", {"new_password1": "court", "new_password2": "court"})
    html = short.content.decode()
    assert short.status_code == 400
    assert "trop court" in field_errors(html, "new_password1")
    assert field_errors(html, "new_password2") == ""
    mismatch = client.post(
        "/connexion/mot-de-passe/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "!"}
    )
    html = mismatch.content.decode()
    assert field_errors(html, "new_password1") == ""
    assert "Les deux mots de passe saisis sont différents." in field_errors(html, "new_password2")
    assert 'aria-describedby="id_new_password2_helptext id_new_password2_error"' in html


def test_password_errors_in_english(first_login):
    client, user = first_login
    with transaction.atomic():
        set_language(user, "en")
    html = client.post("/connexion/mot-de-passe/", {"new_password1": "12345678", "new_password2": "1234"}).content
    html = html.decode()
    assert "too short" in field_errors(html, "new_password1") and "entirely numeric" in field_errors(
        html, "new_password1"
    )
    assert "The two passwords you typed are different." in field_errors(html, "new_password2")


def test_account_password_errors_are_under_their_fields(accounts):
    client = log_in("producteur@example.fr", accounts["producteur@example.fr"])
    wrong = client.post(
        "/compte/mot-de-passe/",
        {"old_password": "not it", "new_password1": "producteur@example.fr", "new_password2": "x"},
    )
    html = wrong.content.decode()
    assert "Mot de passe actuel incorrect." in field_errors(html, "old_password")
    assert "trop semblable" in field_errors(html, "new_password1")
    assert "différents" in field_errors(html, "new_password2")


# --- recent logins and open sessions -------------------------------------------------------------------------------


def test_the_account_page_lists_recent_logins_in_words(accounts):
    password_step(Client(), "Producteur@example.fr", "wrong password", ip=ELSEWHERE)
    client = log_in("producteur@example.fr", accounts["producteur@example.fr"])
    page = client.get("/compte/")
    logins = page.context["recent_logins"]
    assert [(login.outcome, login.ip, login.success) for login in logins] == [
        ("Connexion réussie", OFFICE, True),
        ("Échec : mot de passe incorrect", ELSEWHERE, False),
    ]
    html = page.content.decode()
    assert "24/11/2026 à 10:00" in html and "Échec : mot de passe incorrect" in html


def test_ending_the_other_sessions_signs_them_out(accounts):
    secret = accounts["producteur@example.fr"]
    here = log_in("producteur@example.fr", secret)
    there = log_in("producteur@example.fr", secret, ip=ELSEWHERE, steps_ahead=1)
    colleague = log_in("collegue@example.fr", accounts["collegue@example.fr"])
    sessions = here.get("/compte/").context["sessions"]
    assert sessions.others == 1
    assert sorted((s.ip, s.current) for s in sessions.signed_in) == [(ELSEWHERE, False), (OFFICE, True)]
    response = here.post("/compte/sessions/fermer/", REMOTE_ADDR=OFFICE, follow=True)
    assert "1 autre session fermée." in response.content.decode()
    assert there.get("/compte/").url.startswith("/connexion/")  # signed out
    assert here.get("/compte/").status_code == 200 and colleague.get("/compte/").status_code == 200
    event = AuditEvent.objects.get(action="account.sessions_ended")
    assert (event.user.email, event.ip, event.details) == ("producteur@example.fr", OFFICE, {"count": 1})
    assert AccountSession.objects.filter(user__email="producteur@example.fr").count() == 1
    again = here.post("/compte/sessions/fermer/", follow=True)
    assert "Aucune autre session ouverte." in again.content.decode()
    assert AuditEvent.objects.filter(action="account.sessions_ended").count() == 1


def test_a_new_password_ends_the_other_sessions(accounts):
    secret = accounts["producteur@example.fr"]
    here = log_in("producteur@example.fr", secret)
    there = log_in("producteur@example.fr", secret, ip=ELSEWHERE, steps_ahead=1)
    changed = here.post(
        "/compte/mot-de-passe/",
        {
            "old_password": NEW_PASSWORD,
            "new_password1": "Another-Long-Password-7",
            "new_password2": "Another-Long-Password-7",
        },
    )
    assert changed.status_code == 302
    assert here.get("/compte/").context["sessions"].others == 0  # listed no more
    assert there.get("/compte/").url.startswith("/connexion/")
    assert AuditEvent.objects.filter(action="account.sessions_ended", details={"count": 1}).exists()


def test_ending_sessions_needs_a_signed_in_account(db):
    response = Client().post("/compte/sessions/fermer/")
    assert response.status_code == 302 and response.url.startswith("/connexion/")
    assert not AuditEvent.objects.filter(action="account.sessions_ended").exists()
