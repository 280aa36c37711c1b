"""The outbox's logic, with the in-memory sender and the platform's clock: messages are written with the change
that caused them (a rolled-back change sends nothing), delivered once, retried with a growing delay until the
last try, then failed; a claimed message whose worker died is taken again after its lease; a provisional password
does not stay in the database; what each event sends, to whom, in which language."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.db import transaction

from smartoa.consignes.models import ConsigneVersion
from smartoa.domain.schedule import no_stop_periods
from smartoa.notifications import delivery
from smartoa.notifications.models import OutboxMessage
from smartoa.notifications.queries import delivery_counts, failing_deliveries
from smartoa.notifications.senders import memory
from smartoa.notifications.services import remove_webhook, set_webhook
from tests.factories import (
    add_account,
    clock,
    deliver_outbox,
    modify_day,
    outbox,
    paris,
    publish_day,
    stop_periods,
)

DAY = date(2026, 11, 25)
NOW = paris("2026-11-24", "09:00")


@pytest.fixture
def in_memory(settings):
    settings.SMARTOA_NOTIFICATION_SENDER = "memory"
    settings.SMARTOA_NOW = NOW
    settings.SMARTOA_OUTBOX_MAX_ATTEMPTS = 4
    settings.SMARTOA_OUTBOX_RETRY_SECONDS = 60
    return memory


def test_a_rolled_back_change_writes_and_sends_nothing(in_memory, make_contract, django_capture_on_commit_callbacks):
    from smartoa.accounts.services import create_account

    def failing_change():
        with transaction.atomic():
            create_account("new@example.fr", actor="test")
            assert outbox(recipient="new@example.fr")  # written in the change's transaction…
            raise RuntimeError("the change fails after the account was created")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        failing_change()
    assert callbacks == [] and outbox() == []  # … and gone with it
    assert deliver_outbox() == {} and in_memory.sent == []


def test_a_commit_delivers_its_messages_once(in_memory, make_contract, django_capture_on_commit_callbacks):
    from smartoa.accounts.services import create_account

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        create_account("new@example.fr", actor="test")
    (message,) = outbox()
    assert message.status == "delivered" and message.attempts == 1 and message.delivered_at == NOW
    assert [m.recipient for m in in_memory.sent] == ["new@example.fr"]
    assert deliver_outbox() == {}  # nothing is sent twice
    assert len(in_memory.sent) == 1


def test_the_provisional_password_does_not_stay_in_the_outbox(in_memory, make_contract):
    from smartoa.accounts.services import create_account

    with transaction.atomic():
        create_account("new@example.fr", actor="test")
    (pending,) = outbox()
    assert pending.context["password"] and pending.sensitive and pending.template == "login"
    deliver_outbox()
    assert f"Mot de passe provisoire : {pending.context['password']}" in in_memory.sent[0].body
    pending.refresh_from_db()
    assert pending.status == "delivered" and pending.context == {} and pending.body == ""


def test_a_failure_is_retried_with_a_growing_delay_then_marked_failed(in_memory, make_contract, settings):
    from smartoa.accounts.services import create_account

    with transaction.atomic():
        create_account("new@example.fr", actor="test")
    in_memory.failing = lambda message: "mail server unreachable"
    moment, delays = NOW, []
    for attempt in range(1, 5):
        with clock(moment):
            counts = deliver_outbox()
        (message,) = outbox()
        assert message.attempts == attempt and message.last_error == "mail server unreachable"
        if attempt < 4:
            assert counts == {"retried": 1} and message.status == "pending"
            delays.append(message.next_attempt_at - moment)
            with clock(message.next_attempt_at - timedelta(seconds=1)):
                assert deliver_outbox() == {}  # not before its time
            moment = message.next_attempt_at
        else:
            assert counts == {"failed": 1} and message.status == "failed" and message.context == {}
    assert delays == [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]
    with clock(moment + timedelta(days=1)):
        assert deliver_outbox() == {}  # failed for good
    assert len(in_memory.sent) == 4
    assert [m.pk for m in failing_deliveries()] == [message.pk]
    assert delivery_counts() == {"pending": 0, "delivered": 0, "failed": 1}


def test_a_receiver_that_recovers_gets_the_message(in_memory, make_contract):
    from smartoa.accounts.services import create_account

    with transaction.atomic():
        create_account("new@example.fr", actor="test")
    in_memory.failing = lambda message: "HTTP 503"
    deliver_outbox()
    (message,) = outbox()
    assert [m.pk for m in failing_deliveries()] == []  # one failed try is not "failing" yet
    with clock(message.next_attempt_at):
        deliver_outbox()
    assert [m.pk for m in failing_deliveries()] == [message.pk]  # pending after two tries
    in_memory.failing = lambda message: ""
    message.refresh_from_db()
    with clock(message.next_attempt_at):
        assert deliver_outbox() == {"delivered": 1}
    message.refresh_from_db()
    assert message.status == "delivered" and message.attempts == 3 and message.last_error == ""
    assert delivery_counts() == {"pending": 0, "delivered": 1, "failed": 0}


def test_a_message_claimed_by_a_worker_that_died_is_taken_again_after_its_lease(in_memory, make_contract, settings):
    from smartoa.accounts.services import create_account

    settings.SMARTOA_OUTBOX_LEASE_SECONDS = 300
    with transaction.atomic():
        create_account("new@example.fr", actor="test")
    token, claimed = delivery.claim(10)  # a worker claims it, then dies before sending
    assert len(claimed) == 1
    assert delivery.claim(10)[1] == []  # nobody else takes it meanwhile
    with clock(NOW + timedelta(seconds=299)):
        assert deliver_outbox() == {}  # still leased
    with clock(NOW + timedelta(seconds=300)):
        assert deliver_outbox() == {"delivered": 1}
    (message,) = outbox()
    assert message.attempts == 2 and message.status == "delivered"
    # The dead worker's late answer changes nothing: it no longer holds the lease.
    assert delivery.settle(token, claimed, [delivery.Outcome(False, "late")]) == {}
    message.refresh_from_db()
    assert message.status == "delivered"


def test_a_last_try_interrupted_is_failed(in_memory, make_contract, settings):
    from smartoa.accounts.services import create_account

    settings.SMARTOA_OUTBOX_MAX_ATTEMPTS = 1
    with transaction.atomic():
        create_account("new@example.fr", actor="test")
    delivery.claim(10)  # the only try, and the worker dies
    with clock(NOW + timedelta(hours=1)):
        assert deliver_outbox() == {}
    (message,) = outbox()
    assert message.status == "failed" and message.last_error == "interrupted during its last try"
    assert message.context == {} and in_memory.sent == []


def test_two_claims_never_hold_the_same_message(in_memory, make_contract):
    from smartoa.accounts.services import create_account

    with transaction.atomic():
        for n in range(5):
            create_account(f"user{n}@example.fr", actor="test")
    _, first = delivery.claim(3)
    _, second = delivery.claim(10)
    assert len(first) == 3 and len(second) == 2
    assert not {m.pk for m in first} & {m.pk for m in second}


# --- what the events send ---------------------------------------------------------------------------------


@pytest.fixture
def contracts(in_memory, make_contract):
    """BOA00001 and BOA00002 held by holder@ (French), BOA00001 managed by manager@ (English), BOA00003 with
    nobody; the login e-mails already delivered."""
    one, two, three = make_contract("BOA00001"), make_contract("BOA00002"), make_contract("BOA00003")
    add_account(one, "holder@example.fr")
    add_account(two, "holder@example.fr")
    add_account(one, "manager@example.com", "manager", language="en")
    deliver_outbox()
    in_memory.reset()
    return one, two, three


def test_a_publication_queues_its_emails_and_its_webhook_calls_as_two_tasks(
    contracts, in_memory, django_capture_on_commit_callbacks, monkeypatch
):
    from smartoa.consignes.services import publish
    from smartoa.domain.schedule import ConsigneDocument
    from smartoa.jobs.engine import QUEUED
    from smartoa.notifications.outbox import DELIVER_SOON

    one, two, _ = contracts
    with transaction.atomic():
        set_webhook(one, "https://hooks.example.fr/smartoa", actor="test")
    queued = []
    monkeypatch.setitem(QUEUED, DELIVER_SOON, queued.append)  # what the queue receives, not run here
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish([ConsigneDocument(c.contract_id, DAY, stop_periods(DAY)) for c in (one, two)], actor="test")
    by_kind = {outbox(delivery_id=ids[0])[0].kind: ids for ids in queued}
    assert sorted(by_kind) == ["email", "webhook"] and len(queued) == 2  # one task each, in the same commit
    assert sorted(by_kind["email"]) == sorted(str(m.delivery_id) for m in outbox(kind="email", status="pending"))
    assert by_kind["webhook"] == [str(outbox(kind="webhook")[0].delivery_id)]


def test_a_publication_mails_each_account_once_listing_its_contracts(contracts, in_memory):
    one, two, three = contracts
    for contract in contracts:
        publish_day(contract, DAY, no_stop_periods(DAY) if contract is two else stop_periods(DAY))
    deliver_outbox()
    mails = {m.recipient: m for m in in_memory.sent}
    assert sorted(mails) == ["holder@example.fr", "manager@example.com"]
    holder = [m for m in in_memory.sent if m.recipient == "holder@example.fr"]
    assert len(holder) == 2  # one per publication here (each contract published apart)
    publish_many = [m for m in outbox(event="consigne.published") if m.recipient == "holder@example.fr"]
    assert {m.contract_id for m in publish_many} == {one.pk, two.pk}
    assert "BOA00001 (Installation BOA00001), livraison le 25/11/2026, version 1 : arrêt 11:55–18:00" in holder[0].body
    assert "BOA00002 (Installation BOA00002), livraison le 25/11/2026, version 1 : pas d'arrêt" in holder[1].body
    english = mails["manager@example.com"]
    assert (
        "delivery on 25/11/2026, version 1: stop 11:55–18:00\n  to acknowledge before 24/11/2026 at 16:30 (Paris time)"
        in english.body
    )
    assert english.subject == "SMART OA — consignes for 25/11/2026 published for BOA00001"
    assert not outbox(contract=three)  # nobody to tell, no webhook: nothing written


def test_one_publication_of_several_contracts_is_one_email_per_account(contracts, in_memory):
    from smartoa.consignes.services import publish
    from smartoa.domain.schedule import ConsigneDocument

    with transaction.atomic():
        publish([ConsigneDocument(c.contract_id, DAY, stop_periods(DAY)) for c in contracts], actor="test")
    deliver_outbox()
    holder = [m for m in in_memory.sent if m.recipient == "holder@example.fr"]
    assert len(holder) == 1 and "BOA00001" in holder[0].body and "BOA00002" in holder[0].body
    assert holder[0].subject == "SMART OA — 2 consignes publiées"
    assert "BOA00003" not in holder[0].body


def test_webhooks_receive_the_api_document_exactly(contracts, in_memory, wsgi, issue_token):
    one, two, _ = contracts
    with transaction.atomic():
        set_webhook(one, "https://hooks.example.fr/smartoa", actor="test")
    publish_day(one, DAY)
    publish_day(two, DAY)
    deliver_outbox()
    calls = [m for m in in_memory.sent if m.kind == "webhook"]
    assert [(c.event, c.recipient) for c in calls] == [("consigne.published", "https://hooks.example.fr/smartoa")]
    api = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {issue_token(one)}"})
    assert calls[0].body.encode() == api.body  # byte for byte what the API answers
    assert calls[0].secret.startswith("whsec_")


def test_a_modification_asks_to_acknowledge_again_and_calls_the_webhook(contracts, in_memory, settings):
    one, _, _ = contracts
    with transaction.atomic():
        set_webhook(one, "https://hooks.example.fr/smartoa", actor="test")
    publish_day(one, DAY, moment=NOW - timedelta(hours=1))
    deliver_outbox()
    in_memory.reset()
    modify_day(one, DAY, stop_periods(DAY, "13:00", "18:00"), reason="incident RTE")
    deliver_outbox()
    by_kind = {(m.kind, m.recipient): m for m in in_memory.sent}
    call = by_kind[("webhook", "https://hooks.example.fr/smartoa")]
    assert call.event == "consigne.modified"
    version = ConsigneVersion.objects.get(contract=one, number=2)
    assert json.loads(call.body) == json.loads(version.document) and call.body == version.document
    french = by_kind[("email", "holder@example.fr")]
    assert "motif : incident RTE" in french.body and "version 2 : arrêt 13:00–18:00" in french.body
    english = by_kind[("email", "manager@example.com")]
    assert "acknowledge again" in english.body and "(reason: incident RTE)" in english.body


def test_a_removed_webhook_is_not_called_and_its_pending_calls_fail(contracts, in_memory):
    one, _, _ = contracts
    with transaction.atomic():
        set_webhook(one, "https://hooks.example.fr/smartoa", actor="test")
    publish_day(one, DAY)
    with transaction.atomic():
        remove_webhook(one, actor="test")
    deliver_outbox()
    (call,) = outbox(kind="webhook")
    assert call.status == "failed" and call.last_error == "webhook removed" and call.attempts == 1
    assert not [m for m in in_memory.sent if m.kind == "webhook"]
    publish_day(one, DAY + timedelta(days=1))
    assert len(outbox(kind="webhook")) == 1  # no new call


def test_the_manager_change_tells_the_holders_in_their_language(contracts, in_memory):
    from smartoa.accounts.models import User
    from smartoa.contracts.services import change_manager

    one, _, _ = contracts
    with transaction.atomic():
        new = User.objects.create_user("new@example.fr")
        change_manager(one, new, actor="test")
    deliver_outbox()
    (told,) = [m for m in in_memory.sent if m.event == "manager.changed"]
    assert told.recipient == "holder@example.fr"
    assert "Le gestionnaire du contrat BOA00001 est désormais new@example.fr." in told.body


def test_outbox_rows_are_bulk_inserted_for_a_large_publication(in_memory, make_contract):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from smartoa.consignes.services import publish
    from smartoa.contracts.models import Contract
    from smartoa.domain.schedule import ConsigneDocument
    from smartoa.notifications.models import Webhook

    Contract.objects.bulk_create(
        [
            Contract(contract_id=f"BOA{n:05d}", name=f"P{n}", sector="pv", installed_power=15, power_unit="MWc")
            for n in range(1200)
        ]
    )
    contracts = list(Contract.objects.all())
    Webhook.objects.bulk_create(
        [
            Webhook(contract=c, url="https://h.example.fr/", secret="s", created_at=NOW, updated_at=NOW)
            for c in contracts
        ]
    )
    table = OutboxMessage._meta.db_table
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        publish([ConsigneDocument(c.contract_id, DAY, stop_periods(DAY)) for c in contracts], actor="test")
    inserts = [q["sql"] for q in queries.captured_queries if f"INSERT INTO {table}" in q["sql"]]
    assert OutboxMessage.objects.filter(kind="webhook").count() == 1200
    if connection.vendor == "sqlite":
        assert len(inserts) == 1 and inserts[0].startswith("1200 times")  # one executemany, as for the versions
    else:
        assert inserts == []  # one COPY (core.sql.insert_rows, below Django's query log), no INSERT per row
    assert len(queries.captured_queries) < 60


def test_an_emails_context_is_stored_as_json_and_read_back_with_its_dates():
    from datetime import datetime as dt

    from smartoa.domain.calendar import PARIS
    from smartoa.notifications.events import Reminder
    from smartoa.notifications.outbox import pack, unpack

    moment = dt(2026, 11, 24, 16, 30, tzinfo=PARIS)
    context = {
        "day": DAY,
        "hlar": moment,
        "items": [Reminder(1, "BOA00001", "Parc", 2)],
        "stops": (("11:55", "18:00", ""),),
    }
    packed = pack(context)
    assert json.loads(json.dumps(packed)) == packed
    back = unpack(json.loads(json.dumps(packed)))
    assert back["day"] == DAY and back["hlar"] == moment and back["hlar"].utcoffset() == timedelta(hours=1)
    assert back["items"] == [{"contract_pk": 1, "contract_id": "BOA00001", "label": "Parc", "version": 2}]
    assert back["stops"] == [["11:55", "18:00", ""]]
    with pytest.raises(TypeError, match="plain data"):
        pack({"contract": object()})
