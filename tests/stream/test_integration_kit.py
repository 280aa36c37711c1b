"""The sandbox and the operator's view of the machines against the real stream process (``smartoa stream`` in a
subprocess on the test database, read by a real HTTP client): a test consigne asked for through the API arrives on
the open stream like a real one; a machine that opens the stream after the day's version was published leaves the
back office's early warning, its stream connection shown on the contract's page."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import transaction

from smartoa.backoffice.contact import early_warning
from smartoa.contracts.models import ApiToken
from smartoa.contracts.services import add_ips
from smartoa.core.clock import now
from smartoa.domain.calendar import local_day_of
from tests.factories import PUBLIC_IP, make_operator, make_token, publish_day
from tests.stream.sse import SseClient, start_stream

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def contract(make_contract):
    contract = make_contract("BOA00001")
    with transaction.atomic():
        add_ips(contract, [PUBLIC_IP], actor="test")
    return contract


@pytest.fixture
def stream(tmp_path):
    server = start_stream(tmp_path)
    yield server
    server.stop()


def test_a_sandbox_consigne_arrives_on_the_stream(contract, stream, wsgi):
    token = make_token(contract)
    client = SseClient(stream.port, token)
    try:
        assert client.status == 200
        made = wsgi("POST", "/api/v1/sandbox/consigne", headers={"Authorization": f"Bearer {token}"})
        assert made.status == 201, made.body
        day, version = made.json()["application_date"], made.json()["version"]
        event = client.next_event()
        assert (event.type, event.data["contract"], event.data["day"], event.data["version"]) == (
            "consigne.published",
            "BOA00001",
            day,
            version,
        )
        document = wsgi(
            "GET", "/api/v1/effacements", headers={"Authorization": f"Bearer {token}"}, query=f"start={day}&end={day}"
        )
        assert document.status == 200 and day in document.body.decode()
        again = wsgi("POST", "/api/v1/sandbox/consigne", headers={"Authorization": f"Bearer {token}"})
        event = client.next_event()
        assert (event.type, event.data["version"]) == ("consigne.modified", again.json()["version"])
    finally:
        client.close()


def test_a_machine_on_the_stream_leaves_the_early_warning(contract, stream, client):
    day = local_day_of(now()) + timedelta(days=1)
    publish_day(contract, day, moment=now() - timedelta(minutes=5))
    assert [c.contract_id for c in early_warning(day).contracts] == ["BOA00001"]  # never seen
    sse = SseClient(stream.port, make_token(contract))
    try:
        assert sse.status == 200
        deadline = time.monotonic() + 15
        while ApiToken.objects.filter(last_stream_at__isnull=False).count() == 0 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert [c.contract_id for c in early_warning(day).contracts] == []
        make_operator(client)
        page = " ".join(client.get("/backoffice/contracts/BOA00001/").content.decode().split())
        assert "Flux d'événements : " in page and "depuis <code>127.0.0.1</code>" in page
    finally:
        sse.close()
