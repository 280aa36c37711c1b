"""The event stream, end to end: ``smartoa stream`` in a subprocess against the test database (SQLite: the table
polled every second; PostgreSQL: LISTEN/NOTIFY), read by a real HTTP client. A publication is received with the
event format of the contract; ``Last-Event-ID`` replays what was missed, in order, nothing missed; an id older than
the records kept gets ``stream.reset``; a heartbeat comes every second (as configured); a revoked token and a removed
address end an open stream; refusals are the API's JSON before any stream starts; the stream connection is recorded
on the token; the web API sends ``/api/v1/events`` on to the stream process."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from django.db import connection, transaction

from smartoa.contracts.models import ApiToken
from smartoa.contracts.services import add_ips, remove_ips, revoke_tokens
from smartoa.notifications.models import Event
from smartoa.notifications.outbox import purge_events
from tests.factories import PUBLIC_IP, clock, make_token, modify_day, publish_day, stop_periods
from tests.stream.sse import SseClient, start_stream

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]
DAY = date(2026, 12, 20)


@pytest.fixture
def contract(make_contract):
    contract = make_contract("BOA00001")
    with transaction.atomic():
        add_ips(contract, [PUBLIC_IP], actor="test")
    return contract


@pytest.fixture
def token(contract):
    return make_token(contract)


@pytest.fixture
def stream(tmp_path):
    server = start_stream(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def production_stream(tmp_path):
    server = start_stream(tmp_path, production=True)
    yield server
    server.stop()


@pytest.fixture
def clients():
    opened: list[SseClient] = []

    def open_client(*args, **kwargs) -> SseClient:
        client = SseClient(*args, **kwargs)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


def records(**filters) -> list[Event]:
    return list(Event.objects.filter(**filters).order_by("pk"))


def test_a_publication_is_received_as_an_event(contract, token, stream, clients):
    client = clients(stream.port, token)
    assert client.status == 200
    assert client.headers["content-type"].startswith("text/event-stream")
    assert client.headers["cache-control"] == "no-store" and client.headers["x-accel-buffering"] == "no"
    assert len(client.headers["x-request-id"]) == 32
    assert client.line() == "retry: 5000"
    started = time.monotonic()
    publish_day(contract, DAY)
    event = client.next_event()
    (record,) = records()
    assert (event.id, event.type) == (str(record.pk), "consigne.published")
    assert event.data == {
        "id": record.pk,
        "type": "consigne.published",
        "contract": "BOA00001",
        "day": "2026-12-20",
        "version": 1,
        "url": "/api/v1/effacements?start=2026-12-20&end=2026-12-20",
        "created_at": event.data["created_at"],
    }
    assert time.monotonic() - started < 10  # received within seconds (polled every second, or notified)
    modify_day(contract, DAY, stop_periods(DAY, "12:00", "13:00"))
    event = client.next_event()
    assert (event.type, event.data["version"]) == ("consigne.modified", 2)


def test_another_contracts_events_are_not_sent(contract, token, stream, clients, make_contract):
    other = make_contract("BOA00002")
    client = clients(stream.port, token)
    publish_day(other, DAY)
    publish_day(contract, DAY)
    assert client.next_event().data["contract"] == "BOA00001"


def test_last_event_id_replays_what_was_missed_in_order(contract, token, stream, clients):
    publish_day(contract, DAY)
    first = records()[0].pk
    for offset in (1, 2):
        publish_day(contract, DAY + timedelta(days=offset))
    client = clients(stream.port, token, last_event_id=str(first))
    assert [client.next_event().data["day"] for _ in range(2)] == ["2026-12-21", "2026-12-22"]
    publish_day(contract, DAY + timedelta(days=3))  # live, after the replay
    assert client.next_event().data["day"] == "2026-12-23"
    again = clients(stream.port, token, query=f"?last_event_id={first}")  # the query parameter does the same
    assert [again.next_event().data["day"] for _ in range(3)] == ["2026-12-21", "2026-12-22", "2026-12-23"]


def test_a_stream_cut_and_resumed_misses_nothing(contract, token, stream, clients):
    client = clients(stream.port, token)
    publish_day(contract, DAY)
    last = client.next_event().id
    client.close()
    publish_day(contract, DAY + timedelta(days=1))  # while nobody listens
    resumed = clients(stream.port, token, last_event_id=last)
    publish_day(contract, DAY + timedelta(days=2))
    assert [resumed.next_event().data["day"] for _ in range(2)] == ["2026-12-21", "2026-12-22"]


def test_an_id_older_than_the_records_kept_gets_stream_reset(contract, token, stream, clients):
    old = timezone_now() - timedelta(days=100)
    with clock(old):
        publish_day(contract, DAY)
        publish_day(contract, DAY + timedelta(days=1))
    publish_day(contract, DAY + timedelta(days=2))
    first, _, kept = records()
    with transaction.atomic():
        purge_events(timezone_now() - timedelta(days=90))
    assert [r.pk for r in records()] == [kept.pk]
    client = clients(stream.port, token, last_event_id=str(first.pk))
    reset = client.next_event()
    assert reset.type == "stream.reset" and reset.id == str(kept.pk)
    assert reset.data["contract"] == "BOA00001" and "re-read the days" in reset.data["message"]
    publish_day(contract, DAY + timedelta(days=3))
    assert client.next_event().data["day"] == "2026-12-23"  # then live events; the kept one is not replayed
    current = clients(stream.port, token, last_event_id=str(kept.pk - 1))  # nothing purged after it: no reset
    assert current.next_event().data["day"] == "2026-12-22"


def timezone_now():
    from smartoa.core.clock import now

    return now()


def test_a_heartbeat_comes_while_nothing_happens(token, stream, clients):
    client = clients(stream.port, token)
    comments = []
    while len(comments) < 2:
        block = client.block()
        assert block is not None and block.type is None
        comments += [c for c in block.comments if c == "heartbeat"]


def test_a_revoked_token_ends_the_open_stream(contract, token, stream, clients):
    client = clients(stream.port, token)
    assert client.line() == "retry: 5000"
    with transaction.atomic():
        revoke_tokens(contract, actor="test")
    started = time.monotonic()
    blocks = client.until_end()
    assert time.monotonic() - started < 10
    assert ["closed: revoked_token"] in [b.comments for b in blocks]
    again = clients(stream.port, token)
    assert (again.status, again.json()["error"]) == (401, "revoked_token")


def test_a_removed_address_ends_the_open_stream_in_production(contract, token, production_stream, clients):
    client = clients(production_stream.port, token, ip=PUBLIC_IP)
    assert client.status == 200 and client.line() == "retry: 5000"
    with transaction.atomic():
        add_ips(contract, ["80.12.34.57"], actor="test")  # widening the access ends nothing
        remove_ips(contract, ["80.12.34.57"], actor="test")  # nor removing another address
    publish_day(contract, DAY)
    assert client.next_event().type == "consigne.published"
    with transaction.atomic():
        remove_ips(contract, [PUBLIC_IP], actor="test")
    blocks = client.until_end()
    assert ["closed: ip_not_allowed"] in [b.comments for b in blocks]
    again = clients(production_stream.port, token, ip=PUBLIC_IP)
    assert (again.status, again.json()["error"]) == (403, "ip_not_allowed")


def test_refusals_are_the_apis_json_before_any_stream(contract, token, production_stream, clients):
    missing = clients(production_stream.port, None)
    assert (missing.status, missing.json()["error"]) == (401, "missing_token")
    assert missing.headers["content-type"] == "application/json"
    assert missing.json()["request_id"] == missing.headers["x-request-id"]
    assert "www-authenticate" in missing.headers
    unknown = clients(production_stream.port, "soa_" + "x" * 43)
    assert (unknown.status, unknown.json()["error"]) == (401, "unknown_token")
    elsewhere = clients(production_stream.port, token, ip="80.12.34.99")
    assert (elsewhere.status, elsewhere.json()["error"]) == (403, "ip_not_allowed")
    bad = clients(production_stream.port, token, last_event_id="abc")
    assert (bad.status, bad.json()["error"]) == (422, "invalid_input")


def test_the_stream_connection_is_recorded_on_the_token(contract, token, stream, clients):
    client = clients(stream.port, token, ip=PUBLIC_IP)
    assert client.status == 200
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        row = ApiToken.objects.values("last_stream_at", "last_stream_ip", "last_used_at").get(revoked_at=None)
        if row["last_stream_at"] is not None:
            break
        time.sleep(0.3)
    assert row["last_stream_at"] is not None and row["last_stream_ip"] == "127.0.0.1"  # test env: no proxy trusted
    assert row["last_used_at"] is None  # a stream is not counted as an API call


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_wakes_the_stream_by_notify(contract, token, tmp_path, clients):
    server = start_stream(tmp_path, SMARTOA_STREAM_POLL_SECONDS="60")  # the table is not polled in the test's time
    try:
        deadline = time.monotonic() + 15
        while not server.health()["listening"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.health()["listening"]
        client = clients(server.port, token)
        publish_day(contract, DAY)
        assert client.next_event().type == "consigne.published"
        with connection.cursor() as cursor:  # the LISTEN connection dropped: polled meanwhile, then listening again
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'smartoa-stream'"
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if server.health()["listening"]:
                break
        publish_day(contract, DAY + timedelta(days=1))
        assert client.next_event().data["day"] == "2026-12-21"
    finally:
        server.stop()


def test_the_web_api_sends_the_stream_to_its_process(contract, token, client, settings):
    settings.SMARTOA_STREAM_URL = ""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    answer = client.get("/api/v1/events", **headers)
    assert answer.status_code == 503 and answer.json()["error"] == "unavailable"
    settings.SMARTOA_STREAM_URL = "http://localhost:8001"
    answer = client.get("/api/v1/events?last_event_id=7", **headers)
    assert answer.status_code == 307
    assert answer["Location"] == "http://localhost:8001/api/v1/events?last_event_id=7"
    assert client.get("/api/v1/events").status_code == 401


def stream_seen(token_pk: int, after=None, seconds: float = 15):
    """The token's ``last_stream_at`` once it is set (and later than ``after``), waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        seen = ApiToken.objects.values_list("last_stream_at", flat=True).get(pk=token_pk)
        if (seen is not None and (after is None or seen > after)) or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)


def test_a_stream_held_across_a_publication_keeps_its_machine_seen(contract, stream, clients, make_contract):
    """A machine still connected when a version is published received it: its ``last_stream_at`` is refreshed
    (to the minute, once a minute) while the stream stays open, so the early warning does not flag its contract;
    a contract whose stream closed before the publication is still flagged."""
    from smartoa.backoffice.contact import early_warning

    held_token = make_token(contract)
    held_pk = ApiToken.objects.get(contract=contract).pk
    gone = make_contract("BOA00002")
    gone_token = make_token(gone)
    gone_pk = ApiToken.objects.get(contract=gone).pk
    held, left = clients(stream.port, held_token), clients(stream.port, gone_token)
    assert held.status == 200 and left.status == 200
    opened, gone_seen = stream_seen(held_pk), stream_seen(gone_pk)
    assert opened is not None and gone_seen is not None
    left.close()
    deadline = time.monotonic() + 15
    while stream.health()["streams"] != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stream.health()["streams"] == 1
    gone_seen = stream_seen(gone_pk)  # a refresh may have come before the close was seen
    publish_day(contract, DAY)
    publish_day(gone, DAY)
    assert held.next_event().type == "consigne.published"
    refreshed = stream_seen(held_pk, after=opened, seconds=90)  # the next minute, while the stream is open
    assert refreshed is not None and refreshed > opened
    assert ApiToken.objects.values_list("last_stream_ip", flat=True).get(pk=held_pk) == "127.0.0.1"
    assert stream_seen(gone_pk, seconds=0) == gone_seen  # closed: not refreshed
    warning = early_warning(DAY)
    assert [silent.contract_id for silent in warning.contracts] == ["BOA00002"]
    assert warning.contracts[0].missed_version
