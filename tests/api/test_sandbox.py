"""POST /api/v1/sandbox/consigne through the production WSGI entry point: a test consigne served by the API,
posted to the webhook, acknowledged like a real one; a second call makes a new version; refused in production, for
a day past its change deadline, past the hourly limit, and for another contract's day (a token reaches its own
contract only)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.db import transaction

from smartoa.audit.models import AuditEvent
from smartoa.consignes.models import ConsigneVersion
from smartoa.consignes.sandbox import request_test_consigne, sandbox_schedule
from smartoa.domain.errors import NotFound
from smartoa.domain.windows import clock_text
from smartoa.notifications.models import Event
from smartoa.notifications.services import set_webhook
from tests.factories import PUBLIC_IP, add_account, deliver_outbox, emails, outbox, paris, publish_day
from tests.notifications.receiver import Receiver, signature_ok

PATH = "/api/v1/sandbox/consigne"
NOW = paris("2026-11-24", "10:00")  # the 25th is open until 16:00 (HLAR 16:30 − 30 min)
TOMORROW = date(2026, 11, 25)


@pytest.fixture
def caller(make_contract, issue_token, settings):
    settings.SMARTOA_NOW = NOW
    contract = make_contract("BOA00001")
    return contract, {"Authorization": f"Bearer {issue_token(contract)}"}


def ask(wsgi, headers, body=None, **kwargs):
    raw = b"" if body is None else json.dumps(body).encode()
    return wsgi("POST", PATH, headers=headers, body=raw, **kwargs)


def stop_of(document: dict) -> list[tuple[str, str]]:
    return [(p["start_date"], p["end_date"]) for p in document["data"] if p["value"] == 1.0]


def test_published_served_and_acknowledged(caller, wsgi):
    contract, headers = caller
    made = ask(wsgi, headers, remote_addr="80.12.34.9")
    assert made.status == 201, made.body
    assert made.headers["content-type"] == "application/json"
    document = made.json()
    assert list(document) == ["id", "update_date", "application_date", "data", "version"]
    assert (document["id"], document["application_date"], document["version"]) == ("BOA00001", "2026-11-25", 1)
    assert document["update_date"] == "2026-11-24T10:00:00+01:00"
    assert stop_of(document) == [("2026-11-25T12:00:00+01:00", "2026-11-25T14:00:00+01:00")]

    served = wsgi("GET", "/api/v1/effacement", headers=headers)
    assert served.status == 200
    assert made.body == served.body[:-1] + b', "version": 1}'  # the served document, byte for byte, + version

    version = ConsigneVersion.objects.get(contract=contract)
    assert version.created_by.startswith("sandbox:") and version.number == 1
    published = AuditEvent.objects.get(action="consigne.published")
    assert published.details["sandbox"] is True and published.actor == version.created_by
    assert published.ip == "80.12.34.9"
    asked = AuditEvent.objects.get(action="consigne.sandbox")
    assert (asked.contract, asked.ip, asked.details) == (
        contract,
        "80.12.34.9",
        {"day": "2026-11-25", "version": 1, "channel": "api"},
    )

    (event,) = Event.objects.filter(contract=contract)  # what the event stream sends
    assert (event.type, event.day, event.version) == ("consigne.published", TOMORROW, 1)

    acknowledged = wsgi(
        "POST", "/api/v1/acquiescement", headers=headers, body=b'{"application_date": "2026-11-25", "version": 1}'
    )
    assert acknowledged.status == 201 and acknowledged.json()["acknowledged"] is True


def test_a_second_call_makes_a_new_version_that_voids_the_acknowledgment(caller, wsgi):
    _, headers = caller
    assert ask(wsgi, headers).status == 201
    ack = b'{"application_date": "2026-11-25"}'
    assert wsgi("POST", "/api/v1/acquiescement", headers=headers, body=ack).status == 201
    second = ask(wsgi, headers, {"day": "2026-11-25"})
    assert second.status == 201
    assert second.json()["version"] == 2
    assert stop_of(second.json()) == [("2026-11-25T13:00:00+01:00", "2026-11-25T15:00:00+01:00")]
    state = wsgi("GET", "/api/v1/acquiescement", headers=headers, query="application_date=2026-11-25").json()
    assert (state["version"], state["acknowledged"], state["acknowledged_version"]) == (2, False, 1)
    third = ask(wsgi, headers)
    assert third.json()["version"] == 3 and stop_of(third.json())[0][0] == "2026-11-25T12:00:00+01:00"
    types = Event.objects.order_by("pk").values_list("type", "version")
    assert list(types) == [("consigne.published", 1), ("consigne.modified", 2), ("consigne.modified", 3)]
    modified = AuditEvent.objects.filter(action="consigne.modified").order_by("pk")
    assert [e.details["sandbox"] for e in modified] == [True, True]
    assert wsgi("GET", "/api/v1/effacement", headers=headers).json()["update_date"] == third.json()["update_date"]


def test_the_default_day_is_the_next_one_still_open(caller, wsgi, settings):
    _, headers = caller
    settings.SMARTOA_NOW = paris("2026-11-24", "15:59")
    assert ask(wsgi, headers).json()["application_date"] == "2026-11-25"
    settings.SMARTOA_NOW = paris("2026-11-24", "16:00")  # the 25th's change deadline: the 26th
    assert ask(wsgi, headers).json()["application_date"] == "2026-11-26"


def test_a_day_past_its_deadline_is_refused(caller, wsgi, settings):
    _, headers = caller
    settings.SMARTOA_NOW = paris("2026-11-24", "16:00")
    refused = ask(wsgi, headers, {"day": "2026-11-25"})
    assert refused.status == 409
    assert refused.json()["error"] == "deadline_passed"
    assert "2026-11-25: publication and changes closed at 2026-11-24T16:00:00+01:00" in refused.json()["message"]
    assert ask(wsgi, headers, {"day": "2026-11-20"}).json()["error"] == "deadline_passed"
    assert not ConsigneVersion.objects.exists() and not AuditEvent.objects.filter(action="consigne.sandbox").exists()


@pytest.mark.parametrize(
    "body", [b'{"day": "25/11/2026"}', b'{"day": 20261125}', b'{"day": "2026-02-30"}', b"[]", b"{nope"]
)
def test_bad_input_is_422(caller, wsgi, body):
    _, headers = caller
    refused = wsgi("POST", PATH, headers=headers, body=body)
    assert refused.status == 422 and refused.json()["error"] == "invalid_input", refused.body


def test_refused_in_production(caller, wsgi, settings):
    contract, headers = caller
    settings.PRODUCTION = True
    settings.SMARTOA_ENV = "production"
    with transaction.atomic():
        contract.allowed_ips.create(address=PUBLIC_IP)
    refused = ask(wsgi, headers, remote_addr=PUBLIC_IP)
    assert refused.status == 404
    assert refused.json()["error"] == "not_found"
    assert refused.json()["message"] == "the sandbox exists in the test environment only"
    assert not ConsigneVersion.objects.exists()
    with pytest.raises(NotFound), transaction.atomic():  # the service refuses too, whatever the door
        request_test_consigne(contract.pk, actor="test", channel="portal")
    assert ask(wsgi, {}).status == 401  # the usual authentication first


def test_a_token_reaches_its_own_contract_only(caller, wsgi, make_contract, issue_token):
    contract, headers = caller
    other = make_contract("BOA00002")
    publish_day(other, TOMORROW)
    mine = ask(wsgi, headers).json()
    assert (mine["id"], mine["version"]) == ("BOA00001", 1)
    theirs = ask(wsgi, {"Authorization": f"Bearer {issue_token(other)}"}).json()
    assert (theirs["id"], theirs["version"]) == ("BOA00002", 2)
    assert list(ConsigneVersion.objects.filter(contract=contract).values_list("number", flat=True)) == [1]
    assert sorted(ConsigneVersion.objects.filter(contract=other).values_list("number", flat=True)) == [1, 2]
    assert ask(wsgi, {"Authorization": "Bearer nope"}).status == 401


def test_at_most_n_per_contract_and_hour(caller, wsgi, settings, make_contract, issue_token):
    _, headers = caller
    settings.SMARTOA_SANDBOX_PER_HOUR = 3
    for _ in range(3):
        assert ask(wsgi, headers).status == 201
    refused = ask(wsgi, headers)
    assert refused.status == 429
    assert refused.json()["error"] == "rate_limited"
    assert refused.json()["message"] == (
        "at most 3 test consignes per contract per hour; the next one can be asked for at 2026-11-24T11:00:00+01:00"
    )
    assert refused.headers["retry-after"] == "3601"
    other = make_contract("BOA00002")  # another contract is not limited by this one
    assert ask(wsgi, {"Authorization": f"Bearer {issue_token(other)}"}).status == 201
    settings.SMARTOA_NOW = NOW + timedelta(hours=1, seconds=1)
    assert ask(wsgi, headers).status == 201


def test_the_webhook_and_the_emails_are_told_like_for_a_real_one(caller, wsgi):
    contract, headers = caller
    add_account(contract, "producer@example.fr")
    receiver = Receiver()
    try:
        with transaction.atomic():
            secret = set_webhook(contract, receiver.url, actor="test")
        made = ask(wsgi, headers).json()
        [email] = emails(recipient="producer@example.fr", event="consigne.published")
        assert "BOA00001" in email.body and "12:00" in email.body
        deliver_outbox()
        (call,) = [r for r in receiver.requests if r.event == "consigne.published"]
        assert signature_ok(call, secret)
        assert json.loads(call.body) == {k: v for k, v in made.items() if k != "version"}
        assert outbox(kind="webhook")[0].status == "delivered"
    finally:
        receiver.close()


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_dst_days_get_a_stop_at_noon_local(day, hours):
    window, periods = sandbox_schedule(day, None)
    assert (clock_text(day, window.start), clock_text(day, window.end)) == ("12:00", "14:00")
    assert periods[-1].end - periods[0].start == timedelta(hours=hours)
    assert [p.value for p in periods] == [0.0, 1.0, 0.0]
