"""The SMTP server and the webhook receiver down for an hour (the platform's clock simulated minute by minute, the
worker's delivery run each minute): nothing is lost, everything is delivered once they are back, and in order per
contract and recipient: a later message never overtakes an earlier one still waiting for its retry."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.db import transaction

from smartoa.notifications.models import OutboxMessage
from smartoa.notifications.services import set_webhook
from tests.factories import add_account, clock, deliver_outbox, modify_day, outbox, paris, publish_day, stop_periods
from tests.notifications.receiver import Receiver
from tests.notifications.test_smtp import SmtpServer

pytest.importorskip("aiosmtpd.controller")
DAY = date(2026, 11, 25)
NOW = paris("2026-11-24", "09:00")
CONTRACTS = ("BOA00001", "BOA00002", "BOA00003")
VERSIONS = (("11:55", "18:00"), ("13:00", "18:00"), ("14:00", "19:00"))


@pytest.fixture
def receiver():
    r = Receiver(default=503)  # down: every call answered 503
    yield r
    r.close()


@pytest.fixture
def smtp(settings):
    server = SmtpServer()  # not started: connections refused
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.SMARTOA_OUTBOX_RETRY_SECONDS = 60
    settings.SMARTOA_OUTBOX_MAX_ATTEMPTS = 12
    settings.SMARTOA_NOW = NOW
    yield server
    server.stop()


def minutes(start, count: int):
    """Run the worker's periodic delivery once a minute for ``count`` minutes from ``start`` (simulated clock)."""
    for minute in range(count):
        with clock(start + timedelta(minutes=minute)):
            deliver_outbox()


@pytest.mark.django_db
def test_receivers_down_for_an_hour_get_everything_after_in_order_per_contract(receiver, smtp, make_contract):
    contracts = [make_contract(contract_id) for contract_id in CONTRACTS]
    with clock(NOW - timedelta(hours=2)), transaction.atomic():
        for contract in contracts:
            set_webhook(contract, receiver.url, actor="test")
            add_account(contract, f"{contract.contract_id.lower()}@example.fr")
    # Three versions of each contract's consigne, written while both receivers are down.
    for number, (start, end) in enumerate(VERSIONS):
        for contract in contracts:
            moment = NOW + timedelta(minutes=number)
            if number == 0:
                publish_day(contract, DAY, stop_periods(DAY, start, end), moment=moment)
            else:
                modify_day(contract, DAY, stop_periods(DAY, start, end), moment=moment)
        minutes(NOW + timedelta(minutes=number), 1)
    minutes(NOW + timedelta(minutes=3), 60)  # an hour down

    calls = outbox(kind=OutboxMessage.Kind.WEBHOOK)
    assert len(calls) == 9
    first_of = {c.contract_id: c.delivery_id for c in reversed(calls)}
    # While down, only each contract's first call was tried (retried with its growing delay); the later ones wait.
    tried = {r.delivery for r in receiver.requests}
    assert tried == {str(d) for d in first_of.values()}, "a later call was tried before the earlier one"
    attempts_while_down = len(receiver.requests)
    assert all(c.status == OutboxMessage.Status.PENDING for c in outbox())

    receiver.default = 200
    smtp.start()
    minutes(NOW + timedelta(minutes=63), 90)  # back: the retries fall due, then the waiting messages follow

    assert {m.status for m in outbox()} == {OutboxMessage.Status.DELIVERED}, [(m.event, m.last_error) for m in outbox()]
    delivered = receiver.requests[attempts_while_down:]
    assert sorted(r.delivery for r in delivered) == sorted(str(c.delivery_id) for c in calls)  # each once
    written: dict[int, list[str]] = defaultdict(list)
    for c in calls:
        written[c.contract_id].append(str(c.delivery_id))
    received: dict[int, list[str]] = defaultdict(list)
    ids = {str(c.delivery_id): c.contract_id for c in calls}
    for r in delivered:
        received[ids[r.delivery]].append(r.delivery)
    assert received == written  # in the order written, per contract

    mails: dict[str, list[str]] = defaultdict(list)
    for recipients, message in smtp.mailbox.messages:
        mails[recipients[0]].append(message["X-SmartOA-Delivery"])
    for contract in contracts:
        address = f"{contract.contract_id.lower()}@example.fr"
        expected = [str(m.delivery_id) for m in outbox(kind=OutboxMessage.Kind.EMAIL, recipient=address)]
        assert len(expected) >= 3  # the login e-mail, the publication, two modifications
        assert mails[address] == expected  # each once, in the order written
    print(  # noqa: T201 - the figures of the run, read with -s
        f"\nreceivers down 60 simulated minutes: {attempts_while_down} webhook attempts while down "
        f"(first call of each of {len(contracts)} contracts, retried), then {len(delivered)} calls and "
        f"{len(smtp.mailbox.messages)} e-mails delivered in order"
    )
