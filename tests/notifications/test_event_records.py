"""The event record: one row per change and contract, written in the change's transaction, which the change's
e-mails and webhook calls point to (the webhook carries its id in ``X-SmartOA-Event-ID``) and the event stream
sends; nothing recorded for a refused or rolled-back change; ``access.changed`` for every narrowing of a
contract's API access; the purge keeps them as long as the outbox keeps its messages."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.db import transaction

from smartoa.consignes.deadlines import set_hlar
from smartoa.contracts import bulk
from smartoa.contracts.models import ApiToken
from smartoa.contracts.services import add_ips, clear_ips, issue_token, remove_ips, revoke_tokens, set_active
from smartoa.domain.errors import Conflict
from smartoa.notifications.eventlog import wire
from smartoa.notifications.jobs import purge_old
from smartoa.notifications.models import Event, OutboxMessage
from smartoa.notifications.services import set_webhook
from tests.factories import add_account, clock, deliver_outbox, modify_day, outbox, paris, publish_day, stop_periods
from tests.notifications.receiver import Receiver

DAY = date(2026, 11, 25)
NOW = paris("2026-11-24", "09:00")
PUBLIC_IP = "80.12.34.56"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def contract(db, settings, make_contract, receiver):
    """BOA00001, held by a@example.fr, with a webhook pointing at the receiver."""
    settings.SMARTOA_NOW = NOW
    contract = make_contract("BOA00001")
    add_account(contract, "a@example.fr")
    with transaction.atomic():
        set_webhook(contract, receiver.url, actor="test")
    OutboxMessage.objects.all().delete()  # the login e-mail
    return contract


def records(**filters) -> list[Event]:
    return list(Event.objects.filter(**filters).order_by("pk"))


def test_one_record_per_publication_feeds_the_email_and_the_webhook(contract, receiver):
    publish_day(contract, DAY)
    (event,) = records()
    assert (event.type, event.contract_id, event.day, event.version) == ("consigne.published", contract.pk, DAY, 1)
    mail, call = outbox(kind="email"), outbox(kind="webhook")
    assert [m.event_record_id for m in mail + call] == [event.pk, event.pk]
    assert deliver_outbox() == {"delivered": 2}
    (request,) = receiver.requests
    assert request.headers["x-smartoa-event-id"] == str(event.pk)
    assert wire(event.pk, event.type, "BOA00001", event.day, event.version, event.created_at, event.data) == {
        "id": event.pk,
        "type": "consigne.published",
        "contract": "BOA00001",
        "day": "2026-11-25",
        "version": 1,
        "url": "/api/v1/effacements?start=2026-11-25&end=2026-11-25",
        "created_at": "2026-11-24T09:00:00+01:00",
    }


def test_a_modification_is_its_own_record_with_the_new_version(contract):
    publish_day(contract, DAY)
    version = modify_day(contract, DAY, stop_periods(DAY, "12:00", "13:00"))
    first, second = records()
    assert second.pk > first.pk and (second.type, second.version) == ("consigne.modified", version.number)
    assert {m.event_record_id for m in outbox(event="consigne.modified")} == {second.pk}


def test_a_refused_change_records_nothing(contract):
    publish_day(contract, DAY)
    before = records()
    with pytest.raises(Conflict):  # identical to the current version: refused, rolled back
        modify_day(contract, DAY, stop_periods(DAY))
    assert records() == before and not outbox(event="consigne.modified")


def test_a_rolled_back_change_records_nothing(contract):
    def rolled_back():
        with transaction.atomic():
            publish_day(contract, DAY)
            assert records()  # written in the change's transaction…
            raise RuntimeError("the change fails after its records were written")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert records() == [] and outbox() == []  # … and gone with it


def test_an_email_grouping_several_contracts_points_to_no_single_record(contract, make_contract):
    other = make_contract("BOA00002")
    add_account(other, "a@example.fr")
    OutboxMessage.objects.filter(kind="email").delete()
    from smartoa.consignes.services import publish
    from smartoa.domain.schedule import ConsigneDocument
    from tests.factories import TEST_DATA

    with transaction.atomic():
        docs = [ConsigneDocument(c.contract_id, DAY, stop_periods(DAY)) for c in (contract, other)]
        publish(docs, actor="test", force=TEST_DATA)
    assert [(e.contract_id, e.type) for e in records()] == [
        (contract.pk, "consigne.published"),
        (other.pk, "consigne.published"),
    ]
    (mail,) = outbox(kind="email")
    assert mail.event_record_id is None  # one e-mail tells both; each webhook call points to its own
    assert [m.event_record_id for m in outbox(kind="webhook")] == [records()[0].pk]


def test_an_hlar_change_records_one_event_per_contract_with_a_consigne(contract, receiver, make_contract):
    make_contract("BOA00002")  # no consigne that day: not told
    publish_day(contract, DAY)
    with transaction.atomic():
        previous, _new = set_hlar(DAY, time(18, 0), actor="test")
    (event,) = records(type="hlar.changed")
    assert (event.contract_id, event.day, event.version) == (contract.pk, DAY, None)
    assert event.data == {"hlar": "2026-11-24T18:00:00+01:00", "previous_hlar": previous.isoformat()}
    assert {m.event_record_id for m in outbox(event="hlar.changed")} == {event.pk}
    deliver_outbox()
    (call,) = [r for r in receiver.requests if r.event == "hlar.changed"]
    assert call.headers["x-smartoa-event-id"] == str(event.pk)


def test_a_token_expiry_warning_is_recorded_once_per_threshold(contract, settings):
    from smartoa.contracts.jobs import token_expiry

    with transaction.atomic():
        _, token = issue_token(contract, actor="test")
    for _ in range(2):
        with clock(token.expires_at - timedelta(days=6)):
            token_expiry.call_local()
    (event,) = records(type="token.expiring")
    assert event.day is None and event.data["token_prefix"] == token.prefix
    assert {m.event_record_id for m in outbox(event="token.expiring")} == {event.pk}


def access_changes() -> list[tuple[str, str]]:
    return [(e.contract.contract_id, e.data["reason"]) for e in records(type="access.changed")]


def test_every_narrowing_of_the_api_access_records_access_changed(contract, make_contract):
    with transaction.atomic():
        issue_token(contract, actor="test")  # nothing revoked: no record
        add_ips(contract, [PUBLIC_IP, "80.12.34.57"], actor="test")
    assert access_changes() == []
    with transaction.atomic():
        issue_token(contract, actor="test")  # replaces the active token
        remove_ips(contract, [PUBLIC_IP], actor="test")
        clear_ips(contract, actor="test")
        revoke_tokens(contract, actor="test")
        revoke_tokens(contract, actor="test")  # nothing left to revoke: no record
    assert access_changes() == [
        ("BOA00001", "token.revoked"),
        ("BOA00001", "ip.removed"),
        ("BOA00001", "ip.removed"),
        ("BOA00001", "token.revoked"),
    ]
    Event.objects.all().delete()
    with transaction.atomic():
        issue_token(contract, actor="test")
        set_active(contract, False, actor="test")
    assert access_changes() == [("BOA00001", "contract.deactivated"), ("BOA00001", "token.revoked")]


def test_the_bulk_portal_operations_record_access_changed(contract, make_contract):
    from smartoa.accounts.models import User

    user = User.objects.get(email="a@example.fr")
    with transaction.atomic():
        add_ips(contract, [PUBLIC_IP], actor="test")
        bulk.issue_tokens(user, ["BOA00001"])  # no token before: nothing revoked
    assert access_changes() == []
    with transaction.atomic():
        bulk.issue_tokens(user, ["BOA00001"])
        bulk.remove_address(user, ["BOA00001"], PUBLIC_IP)
    assert access_changes() == [("BOA00001", "token.revoked"), ("BOA00001", "ip.removed")]
    assert ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).count() == 1


def test_the_purge_deletes_the_records_as_old_as_the_messages(contract, settings):
    settings.SMARTOA_OUTBOX_KEEP_DAYS = 90
    publish_day(contract, DAY)
    deliver_outbox()
    old = records()[0]
    later = NOW + timedelta(days=89)
    with clock(later):
        publish_day(contract, DAY + timedelta(days=89))
    pending = outbox(event_record=records()[-1])
    with clock(NOW + timedelta(days=91)):
        purge_old.call_local()
    assert [e.pk for e in records()] == [records()[-1].pk] and old.pk not in [e.pk for e in records()]
    assert all(m.event_record_id is not None for m in pending)
    assert OutboxMessage.objects.filter(event_record_id=old.pk).count() == 0
