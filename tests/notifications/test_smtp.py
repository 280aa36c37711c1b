"""E-mails through a real SMTP server on loopback (aiosmtpd): Django's SMTP backend, the account's language, a
server that is down (retried, then delivered once it is back), and the real worker sending through
``SMARTOA_EMAIL_URL=smtp://127.0.0.1:PORT``."""

from __future__ import annotations

import time
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from django.db import transaction

from smartoa.accounts.services import create_account, set_language
from tests.api.servers import free_port
from tests.factories import clock, deliver_outbox, outbox, paris
from tests.jobs.test_worker import Worker
from tests.jobs.test_worker import queue as queue  # the fixture of the worker tests, used below

aiosmtpd = pytest.importorskip("aiosmtpd.controller")
NOW = paris("2026-11-24", "09:00")


class Mailbox:
    """What the SMTP server received."""

    def __init__(self):
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def body(self, message: EmailMessage) -> str:
        return message.get_content()


class SmtpServer:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.mailbox = Mailbox()
        self.controller = aiosmtpd.Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        self.running = True
        return self

    def stop(self):
        if getattr(self, "running", False):
            self.controller.stop()
            self.running = False


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.SMARTOA_NOW = NOW
    yield server
    server.stop()


@pytest.mark.django_db
def test_login_emails_go_through_smtp_in_each_accounts_language(smtp):
    with transaction.atomic():
        create_account("fr@example.fr", actor="test")
        english = create_account("en@example.com", actor="test")
    set_language(english, "en")  # the login e-mail was written in French, at creation
    assert deliver_outbox() == {"delivered": 2}
    received = {tuple(to): message for to, message in smtp.mailbox.messages}
    french = received[("fr@example.fr",)]
    assert french["Subject"] == "SMART OA — vos identifiants de connexion"
    assert "Mot de passe provisoire : " in smtp.mailbox.body(french)
    assert french["X-SmartOA-Delivery"] == str(outbox(recipient="fr@example.fr")[0].delivery_id)
    assert french["From"] == "SMART OA <no-reply@smart-oa.example>"


@pytest.mark.django_db
def test_an_english_account_gets_english_emails(smtp):
    from smartoa.contracts.services import change_manager
    from tests.factories import add_account, make_contract

    contract = make_contract("BOA00001")
    add_account(contract, "holder@example.com", language="en")
    add_account(contract, "old@example.fr", "manager")
    deliver_outbox()
    smtp.mailbox.messages.clear()
    from smartoa.accounts.models import User

    with transaction.atomic():
        change_manager(contract, User.objects.create_user("new@example.fr"), actor="test")
    deliver_outbox()
    ((to, message),) = smtp.mailbox.messages
    assert to == ["holder@example.com"]
    assert message["Subject"] == "SMART OA — new manager for contract BOA00001"
    assert "The manager of contract BOA00001 is now new@example.fr." in smtp.mailbox.body(message)


@pytest.mark.django_db
def test_a_mail_server_down_is_retried_until_it_is_back(smtp):
    smtp.stop()
    with transaction.atomic():
        create_account("fr@example.fr", actor="test")
    assert deliver_outbox() == {"retried": 1}
    (message,) = outbox()
    assert "ConnectionRefusedError" in message.last_error
    server = SmtpServer(smtp.port).start()
    try:
        with clock(message.next_attempt_at):
            assert deliver_outbox() == {"delivered": 1}
    finally:
        server.stop()
    assert [to for to, _ in server.mailbox.messages] == [["fr@example.fr"]]


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_through_the_smtp_server_of_smartoa_email_url(tmp_path, smtp, queue):
    from smartoa.notifications.models import OutboxMessage

    with transaction.atomic():
        create_account("fr@example.fr", actor="test")  # committed; its delivery queued for the worker
    assert smtp.mailbox.messages == []
    worker = Worker(tmp_path, queue, SMARTOA_EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not smtp.mailbox.messages:
            time.sleep(0.1)
    finally:
        assert worker.stop() == 0, worker.logs()
    ((to, message),) = smtp.mailbox.messages
    assert to == ["fr@example.fr"] and "Mot de passe provisoire" in smtp.mailbox.body(message)
    stored = OutboxMessage.objects.get()
    assert stored.status == "delivered" and stored.context == {}  # the password is not kept
    assert stored.delivered_at is not None and stored.delivered_at > NOW - timedelta(days=3650)
