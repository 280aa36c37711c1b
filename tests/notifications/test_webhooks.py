"""Webhooks against a real HTTP receiver on loopback: signed calls the receiver verifies, a receiver failing then
recovering, one that never recovers (failed after the last try), a timeout, nothing sent twice after a 2xx, a
rolled-back change calls nothing; the URL rules and the ``smartoa webhooks`` command."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction

from smartoa.audit.models import AuditEvent
from smartoa.domain.errors import InvalidInput
from smartoa.notifications.models import Webhook
from smartoa.notifications.queries import webhook_log
from smartoa.notifications.services import remove_webhook, send_test, set_webhook
from smartoa.notifications.webhooks import check_url
from tests.factories import clock, deliver_outbox, outbox, paris, publish_day
from tests.notifications.receiver import Receiver, signature_ok
from tests.subprocess_env import smartoa

DAY = date(2026, 11, 25)
NOW = paris("2026-11-24", "09:00")


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hooked(db, settings, make_contract, receiver):
    """BOA00001 with its webhook pointing at the receiver; returns (contract, secret)."""
    settings.SMARTOA_NOW = NOW
    settings.SMARTOA_OUTBOX_MAX_ATTEMPTS = 3
    settings.SMARTOA_OUTBOX_RETRY_SECONDS = 30
    contract = make_contract("BOA00001")
    with transaction.atomic():
        secret = set_webhook(contract, receiver.url, actor="test")
    return contract, secret


def test_a_publication_is_posted_signed_and_the_receiver_verifies_it(hooked, receiver):
    contract, secret = hooked
    publish_day(contract, DAY)
    assert deliver_outbox() == {"delivered": 1}
    (call,) = receiver.requests
    assert call.path == "/hooks/smartoa" and call.event == "consigne.published"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["x-smartoa-timestamp"] == str(int(NOW.timestamp()))
    assert signature_ok(call, secret)
    assert not signature_ok(call, "whsec_another")
    document = json.loads(call.body)
    assert list(document) == ["id", "update_date", "application_date", "data"] and document["id"] == "BOA00001"
    (message,) = outbox(kind="webhook")
    assert call.delivery == str(message.delivery_id) and message.status == "delivered"
    assert deliver_outbox() == {}  # nothing sent twice once a 2xx came back
    assert len(receiver.requests) == 1


def test_a_failing_receiver_is_retried_until_it_recovers(hooked, receiver):
    contract, secret = hooked
    receiver.statuses = [500, 503]
    publish_day(contract, DAY)
    assert deliver_outbox() == {"retried": 1}
    (message,) = outbox(kind="webhook")
    assert message.last_error == "HTTP 500" and message.next_attempt_at == NOW + timedelta(seconds=30)
    with clock(NOW + timedelta(seconds=29)):
        assert deliver_outbox() == {}
    with clock(NOW + timedelta(seconds=30)):
        assert deliver_outbox() == {"retried": 1}
    message.refresh_from_db()
    assert message.last_error == "HTTP 503" and message.next_attempt_at == NOW + timedelta(seconds=90)
    with clock(NOW + timedelta(seconds=90)):
        assert deliver_outbox() == {"delivered": 1}
    message.refresh_from_db()
    assert message.status == "delivered" and message.attempts == 3 and message.last_error == ""
    assert len({r.delivery for r in receiver.requests}) == 1 and len(receiver.requests) == 3
    assert all(signature_ok(r, secret) for r in receiver.requests)


def test_a_receiver_that_never_recovers_is_marked_failed_after_the_last_try(hooked, receiver):
    contract, _ = hooked
    receiver.default = 500
    publish_day(contract, DAY)
    moment = NOW
    for _ in range(3):
        with clock(moment):
            deliver_outbox()
        (message,) = outbox(kind="webhook")
        moment = message.next_attempt_at
    assert message.status == "failed" and message.attempts == 3 and message.last_error == "HTTP 500"
    with clock(moment + timedelta(days=1)):
        assert deliver_outbox() == {}
    assert len(receiver.requests) == 3


def test_no_answer_in_time_is_a_failure(hooked, receiver, settings):
    contract, _ = hooked
    settings.SMARTOA_WEBHOOK_TIMEOUT = 0.5
    receiver.stall.set()
    publish_day(contract, DAY)
    assert deliver_outbox() == {"retried": 1}
    (message,) = outbox(kind="webhook")
    assert message.last_error == "no answer within 0.5 s"


def test_a_closed_port_is_a_failure(db, settings, make_contract):
    settings.SMARTOA_NOW = NOW
    contract = make_contract("BOA00001")
    closed = Receiver()
    closed.close()
    with transaction.atomic():
        set_webhook(contract, closed.url, actor="test")
    publish_day(contract, DAY)
    assert deliver_outbox() == {"retried": 1}
    assert outbox(kind="webhook")[0].last_error == "could not connect: Connection refused"


def test_a_redirect_is_not_followed(hooked, receiver):
    contract, _ = hooked
    receiver.statuses = [302]
    publish_day(contract, DAY)
    assert deliver_outbox() == {"retried": 1}
    assert outbox(kind="webhook")[0].last_error == "HTTP 302"


def test_a_rolled_back_publication_calls_nothing(hooked, receiver):
    contract, _ = hooked

    def rolled_back():
        with transaction.atomic():
            publish_day(contract, DAY)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert outbox(kind="webhook") == [] and deliver_outbox() == {}
    assert receiver.requests == []


def test_many_calls_go_out_concurrently_on_reused_connections(db, settings, make_contract, receiver):
    from smartoa.consignes.services import publish
    from smartoa.contracts.models import Contract
    from smartoa.domain.schedule import ConsigneDocument
    from tests.factories import stop_periods

    settings.SMARTOA_NOW = NOW
    Contract.objects.bulk_create(
        [
            Contract(contract_id=f"BOA{n:05d}", name=f"P{n}", sector="pv", installed_power=15, power_unit="MWc")
            for n in range(300)
        ]
    )
    contracts = list(Contract.objects.all())
    Webhook.objects.bulk_create(
        [Webhook(contract=c, url=receiver.url, secret=f"s{c.pk}", created_at=NOW, updated_at=NOW) for c in contracts]
    )
    with transaction.atomic():
        publish([ConsigneDocument(c.contract_id, DAY, stop_periods(DAY)) for c in contracts], actor="test")
    counts = deliver_outbox(batch=100)
    assert counts == {"delivered": 300}, [m.last_error for m in outbox(status="pending")][:3]
    assert len(receiver.requests) == 300 and len({r.delivery for r in receiver.requests}) == 300
    secrets = {c.contract_id: f"s{c.pk}" for c in contracts}
    assert all(signature_ok(r, secrets[json.loads(r.body)["id"]]) for r in receiver.requests)


# --- the services, the command, the URL rules -------------------------------------------------------------


def test_a_test_event_is_signed_and_logged(hooked, receiver):
    contract, secret = hooked
    with transaction.atomic():
        message = send_test(contract, actor="holder@example.fr", ip="80.12.34.56")
    deliver_outbox()
    (call,) = receiver.requests
    assert call.event == "test" and signature_ok(call, secret)
    assert json.loads(call.body)["id"] == "BOA00001" and json.loads(call.body)["event"] == "test"
    assert [m.delivery_id for m in webhook_log(contract)] == [message.delivery_id]
    event = AuditEvent.objects.get(action="webhook.test")
    assert event.actor == "holder@example.fr" and event.ip == "80.12.34.56" and event.contract_id == contract.pk


def test_setting_again_changes_the_secret_and_pending_calls_follow(hooked, receiver):
    contract, first = hooked
    publish_day(contract, DAY)  # pending
    other = Receiver()
    try:
        with transaction.atomic():
            second = set_webhook(contract, other.url, actor="test")
        assert second != first
        deliver_outbox()
        assert receiver.requests == [] and len(other.requests) == 1
        assert signature_ok(other.requests[0], second) and not signature_ok(other.requests[0], first)
        assert outbox(kind="webhook")[0].recipient == other.url
    finally:
        other.close()
    assert AuditEvent.objects.filter(action="webhook.set").count() == 2


def test_remove_then_a_test_is_refused(hooked):
    from smartoa.domain.errors import Conflict

    contract, _ = hooked
    with transaction.atomic():
        assert remove_webhook(contract, actor="test") is True
        assert remove_webhook(contract, actor="test") is False
    with pytest.raises(Conflict, match="no webhook to test"):
        send_test(contract, actor="test")
    webhook = Webhook.objects.get(contract=contract)
    assert not webhook.active and webhook.secret == ""


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "is required"),
        ("ftp://hooks.example.fr/x", "only https:// URLs"),
        ("javascript:alert(1)", "only https:// URLs"),
        ("https://user:pass@hooks.example.fr/x", "user name or password"),
        ("https://token@hooks.example.fr/x", "user name or password"),
        ("https://hooks.example.fr/" + "a" * 480, "505 characters; at most 500"),
        ("https://hooks.example.fr/a b", "spaces"),
        ("https:///path", "no host name"),
        ("https://hooks.example.fr:99999/", "port"),
        ("https://hooks.example.fr/#frag", "fragment"),
    ],
)
def test_urls_that_cannot_receive_webhooks_are_refused(url, message):
    with pytest.raises(InvalidInput, match=message):
        check_url(url)


def test_plain_http_and_local_servers_are_refused_in_production(settings):
    assert check_url(" http://127.0.0.1:8080/hook ") == "http://127.0.0.1:8080/hook"  # test environment
    settings.PRODUCTION = True
    for url in ("http://hooks.example.fr/x", "https://127.0.0.1/x", "https://10.0.0.7/x", "https://localhost/x"):
        with pytest.raises(InvalidInput):
            check_url(url)
    assert check_url("https://hooks.example.fr/smartoa") == "https://hooks.example.fr/smartoa"
    assert check_url("https://80.12.34.56:8443/smartoa") == "https://80.12.34.56:8443/smartoa"


def test_a_refused_url_changes_nothing(hooked):
    contract, _ = hooked
    before = Webhook.objects.get(contract=contract).secret
    with pytest.raises(InvalidInput), transaction.atomic():
        set_webhook(contract, "ftp://x.example.fr/", actor="test")
    assert Webhook.objects.get(contract=contract).secret == before


@pytest.mark.django_db(transaction=True)
def test_the_command_prints_the_secret_alone_on_the_last_line(make_contract, receiver):
    make_contract("BOA00001")
    done = smartoa("webhooks", "set", "BOA00001", receiver.url)
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_") and Webhook.objects.get().secret == secret
    shown = smartoa("webhooks", "show", "BOA00001")
    assert receiver.url in shown.stdout
    bad = smartoa("webhooks", "set", "BOA00001", "ftp://x.example.fr/")
    assert bad.returncode == 1 and "only https:// URLs are accepted" in bad.stderr
    unknown = smartoa("webhooks", "set", "NOPE1", receiver.url)
    assert unknown.returncode == 1 and "unknown contract" in unknown.stderr
    removed = smartoa("webhooks", "remove", "BOA00001")
    assert removed.returncode == 0 and "removed" in removed.stdout
    again = smartoa("webhooks", "remove", "BOA00001")
    assert again.returncode == 1 and "no webhook to remove" in again.stderr
    assert Webhook.objects.get().active is False


def test_the_command_queues_a_test_event(hooked, receiver, capsys):
    _, secret = hooked
    call_command("webhooks", "test", "BOA00001")
    assert "test event queued" in capsys.readouterr().out
    deliver_outbox()
    assert receiver.requests[0].event == "test" and signature_ok(receiver.requests[0], secret)
