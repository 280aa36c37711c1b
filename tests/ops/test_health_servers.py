"""Health probes, metrics and JSON logs of the real processes: ``smartoa serve`` (gunicorn, 2 workers: both
workers' counts summed by /metrics whichever answers), ``smartoa stream`` (/readyz, /metrics with its open
streams), /readyz 503 when PostgreSQL goes away (a TCP relay standing for the server) and back without a restart,
and when a migration is missing (a database of its own, a migration unapplied under the running server); a
``smartoa worker`` sharing the data folder has its delivery counters summed by the web process's /metrics."""

from __future__ import annotations

import http.client
import json
import re
import time
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from smartoa.contracts.services import add_ips, issue_token
from smartoa.jobs.engine import LazySqliteStorage, huey
from smartoa.notifications.models import OutboxMessage
from smartoa.notifications.services import set_webhook
from tests.api.servers import TcpRelay, call, start_server
from tests.factories import PUBLIC_IP, publish_day
from tests.jobs.test_worker import Worker, delivered, wait_until
from tests.notifications.receiver import Receiver
from tests.ops.metrics_text import sample
from tests.stream.sse import SseClient, start_stream
from tests.subprocess_env import database_url, smartoa

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]
postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL run only")

DOC = """{"id": "BOA00001", "application_date": "2026-03-29", "data": [
 {"start_date": "2026-03-29T00:00:00+01:00", "end_date": "2026-03-30T00:00:00+02:00", "value": 0.0}]}"""


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET from 127.0.0.1 itself (no X-Forwarded-For)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture
def token(make_contract, tmp_path):
    contract = make_contract("BOA00001")
    with transaction.atomic():
        add_ips(contract, [PUBLIC_IP], actor="test")
    (tmp_path / "doc.json").write_text(DOC)
    call_command("consignes", "publish", str(tmp_path / "doc.json"), "--force", "--reason", "test data")
    plain, _ = issue_token(contract, actor="test")
    return plain


def test_two_workers_counts_are_summed_and_logs_are_json(tmp_path, token):
    stale = tmp_path / "metrics" / "web" / "counter_99999.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by a previous run")
    server = start_server(tmp_path, workers=2, SMARTOA_LOG_FORMAT="json")
    try:
        assert not stale.exists()  # the folder is emptied when the web processes start
        assert get(server.port, "/healthz")[0] == 200
        status, _, body = get(server.port, "/readyz")
        assert status == 200 and json.loads(body)["status"] == "ok", body
        # Hot-path calls on fresh connections until both workers answered some (the access log names the pid).
        answers, pids = [], set()
        deadline = time.monotonic() + 60
        while (len(pids) < 2 or len(answers) < 20) and time.monotonic() < deadline:
            answers.append(call(server.port, "GET", "/api/v1/effacement", token=token))
            time.sleep(0.05)
            pids = set(re.findall(r"pid=<?(\d+)>? id=\S+ \"GET /api/v1/effacement ", server.access_log.read_text()))
        assert len(pids) == 2, server.access_log.read_text()[-500:]
        assert {a.status for a in answers} == {200}
        # A Django API route, refused: counted under its template with its status.
        assert call(server.port, "GET", "/api/v1/acquiescement?application_date=2026-03-29").status == 401
        for _ in range(3):  # whichever worker answers the scrape, the sum is the same
            status, headers, body = get(server.port, "/metrics")
            assert status == 200 and headers["content-type"].startswith("text/plain")
            text = body.decode()
            hot = {"endpoint": "/api/v1/effacement", "method": "GET", "status": "200"}
            assert sample(text, "smartoa_http_requests_total", **hot) == len(answers)
            assert sample(text, "smartoa_http_request_duration_seconds_count", endpoint="/api/v1/effacement") == len(
                answers
            )
            assert sample(text, "smartoa_http_requests_total", endpoint="/api/v1/acquiescement", status="401") == 1
            assert sample(text, "smartoa_outbox_pending_messages") >= 0
        # Through the trusted proxy, a public client is refused.
        refused = call(server.port, "GET", "/metrics")
        assert refused.status == 404 and b"smartoa_" not in refused.body

        # JSON log lines: the request line of a call carries the id of its X-Request-ID header.
        answer = call(server.port, "GET", "/api/v1/effacement", token=token)
        request_id = answer.headers["x-request-id"]
        deadline = time.monotonic() + 10
        found = None
        while found is None and time.monotonic() < deadline:
            for line in server.logs().splitlines():
                if request_id in line and line.startswith("{"):
                    found = json.loads(line)
            time.sleep(0.1)
        assert found is not None, server.logs()[-3000:]
        assert found["request_id"] == request_id and found["logger"] == "smartoa.request"
        assert found["method"] == "GET" and found["path"] == "/api/v1/effacement" and found["status"] == 200
        assert found["duration_ms"] >= 0 and found["level"] == "INFO" and found["time"]
        assert token not in server.logs()
    finally:
        server.stop()


def test_readyz_is_503_while_a_migration_is_missing(tmp_path):
    url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
    assert smartoa("migrate", DATABASE_URL=url, SMARTOA_DATA_DIR=str(tmp_path)).returncode == 0
    server = start_server(tmp_path, workers=1, DATABASE_URL=url)
    try:
        undone = smartoa("migrate", "jobs", "zero", DATABASE_URL=url, SMARTOA_DATA_DIR=str(tmp_path))
        assert undone.returncode == 0, undone.stderr
        status, headers, body = get(server.port, "/readyz")
        assert status == 503, body
        answer = json.loads(body)
        assert answer["status"] == "unavailable" and answer["checks"]["database"] == "ok"
        assert "not applied" in answer["checks"]["migrations"] and headers["retry-after"]
        assert get(server.port, "/healthz")[0] == 200  # alive, not ready
        assert smartoa("migrate", DATABASE_URL=url, SMARTOA_DATA_DIR=str(tmp_path)).returncode == 0
        assert get(server.port, "/readyz")[0] == 200
    finally:
        server.stop()


@pytest.fixture
def relay():
    settings_dict = connection.settings_dict
    relay = TcpRelay((settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432)))
    yield relay
    relay.close()


def through(relay: TcpRelay) -> str:
    s = connection.settings_dict
    return database_url().replace(f"@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/", f"@127.0.0.1:{relay.port}/")


@postgresql_only
def test_readyz_is_503_while_postgresql_is_down_then_200(tmp_path, relay):
    server = start_server(tmp_path, workers=1, DATABASE_URL=through(relay), SMARTOA_READY_TIMEOUT="2")
    stream = start_stream(tmp_path, DATABASE_URL=through(relay))
    try:
        for port in (server.port, stream.port):
            assert get(port, "/readyz")[0] == 200
        relay.down()
        for port in (server.port, stream.port):
            started = time.monotonic()
            status, _, body = get(port, "/readyz")
            assert status == 503, body
            checks = json.loads(body)["checks"]
            assert checks["database"] != "ok" and checks["cache"] != "ok"  # the cache is a table of the database
            assert time.monotonic() - started < 20
            assert get(port, "/healthz")[0] == 200  # alive, not ready
        relay.up()
        for port in (server.port, stream.port):
            deadline = time.monotonic() + 20
            while get(port, "/readyz")[0] != 200:
                assert time.monotonic() < deadline, get(port, "/readyz")
                time.sleep(0.3)
    finally:
        server.stop()
        stream.stop()


def test_stream_process_probes_and_open_streams_gauge(tmp_path, token):
    stream = start_stream(tmp_path, production=True)
    try:
        status, _, body = get(stream.port, "/readyz")
        assert status == 200 and json.loads(body)["checks"]["migrations"] == "ok", body
        status, _, body = get(stream.port, "/metrics")
        assert status == 200 and sample(body.decode(), "smartoa_stream_open_connections") == 0
        client = SseClient(stream.port, token)
        try:
            assert client.status == 200
            _, _, body = get(stream.port, "/metrics")
            assert sample(body.decode(), "smartoa_stream_open_connections") == 1
        finally:
            client.close()
        refused, _, body = get(stream.port, "/metrics", {"X-Forwarded-For": PUBLIC_IP})  # via the trusted proxy
        assert refused == 404 and b"smartoa_" not in body
    finally:
        stream.stop()


@pytest.fixture
def queue(tmp_path):
    """The test's jobs go to a SQLite queue file, for the worker subprocess (as in tests/jobs/test_worker.py)."""
    path = tmp_path / "jobs.sqlite3"
    huey.immediate = False
    huey.storage = LazySqliteStorage(huey.name, filename=str(path), timeout=20)
    yield path
    huey.storage.close()
    huey.immediate = True


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_the_workers_deliveries_and_job_runs_reach_the_web_metrics(tmp_path, queue, receiver, make_contract):
    """``smartoa worker`` and ``smartoa serve`` sharing SMARTOA_DATA_DIR: the worker's delivery counters are summed
    by the web process's /metrics; its job runs give the jobs' last success."""
    contract = make_contract("BOA00001")
    with transaction.atomic():
        set_webhook(contract, receiver.url, actor="test")
    publish_day(contract, date(2026, 11, 25))  # commits: a webhook call in the outbox, its delivery queued
    message = OutboxMessage.objects.get(kind="webhook")
    server = start_server(tmp_path, workers=2)
    worker = Worker(tmp_path, queue, "--workers", "1")
    try:
        assert receiver.wait_for(1), worker.logs()
        wait_until(lambda: delivered(message), what="the delivery to be recorded")
        deadline = time.monotonic() + 30
        while True:
            _, _, body = get(server.port, "/metrics")
            text = body.decode()
            if sample(text, "smartoa_outbox_deliveries_total", kind="webhook", outcome="delivered") == 1:
                break
            assert time.monotonic() < deadline, text
            time.sleep(0.3)
        assert sample(text, "smartoa_job_last_success_timestamp_seconds", job="notifications.deliver") > 0
        assert sample(text, "smartoa_outbox_pending_messages") == 0
    finally:
        worker.stop()
        server.stop()
