"""The production server (gunicorn, 2 workers): a revoked token or a removed IP is refused on the very next
request, by every worker — nothing is cached between requests; refusals are rate-limited across workers; the
access log names each request by its id and never holds a query string (where a token sent by mistake would be)."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.core.management import call_command

from smartoa.contracts.services import issue_token, remove_ips
from tests.api.servers import call, start_server
from tests.factories import PUBLIC_IP

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

DOC = """{"id": "BOA00001", "application_date": "2026-03-29", "data": [
 {"start_date": "2026-03-29T00:00:00+01:00", "end_date": "2026-03-30T00:00:00+02:00", "value": 0.0}]}"""


@pytest.fixture
def server(tmp_path):
    # Many refusals on purpose here: a rate the test cannot reach (its own test below uses a small one).
    running = start_server(tmp_path, SMARTOA_API_FAILURE_RATE="10000/m")
    yield running
    running.stop()
    cache.clear()  # counters the server committed to the database cache


@pytest.fixture
def published(make_contract, tmp_path):
    contract = make_contract("BOA00001")
    call_command("ips", "add", "BOA00001", PUBLIC_IP)
    (tmp_path / "doc.json").write_text(DOC)
    call_command("consignes", "publish", str(tmp_path / "doc.json"), "--force", "--reason", "test data")
    return contract


def statuses_by_worker(server, token: str, *, minimum_per_worker: int = 3) -> dict[int, Counter]:
    """Send requests (4 at a time, fresh connections) until both workers answered a few; their statuses per pid."""
    tag = uuid.uuid4().hex  # marks this round's requests (by their User-Agent) in the access log
    pattern = re.compile(rf"pid=<?(\d+)>? id=\w+ \"GET /api/v1/effacement HTTP/1.1\" (\d{{3}}) .*\"{tag}\"")
    per_pid: dict[int, Counter] = {}
    for _ in range(100):
        with ThreadPoolExecutor(4) as pool:
            list(
                pool.map(
                    lambda _: call(server.port, "GET", "/api/v1/effacement", token=token, headers={"User-Agent": tag}),
                    range(8),
                )
            )
        per_pid = {}
        for match in pattern.finditer(server.access_log.read_text()):
            per_pid.setdefault(int(match[1]), Counter())[int(match[2])] += 1
        if len(per_pid) >= 2 and all(sum(c.values()) >= minimum_per_worker for c in per_pid.values()):
            return per_pid
    pytest.fail(f"the two workers were not both reached: {per_pid}")


def test_revocation_and_ip_removal_reach_every_worker_at_once(server, published):
    old, _ = issue_token(published, actor="test")

    by_worker = statuses_by_worker(server, old)
    assert all(set(c) == {200} for c in by_worker.values()), by_worker

    new, _ = issue_token(published, actor="test")  # revokes ``old``
    by_worker = statuses_by_worker(server, old)
    assert all(set(c) == {401} for c in by_worker.values()), by_worker
    assert call(server.port, "GET", "/api/v1/effacement", token=new).status == 200

    remove_ips(published, [PUBLIC_IP], actor="test")
    by_worker = statuses_by_worker(server, new)
    assert all(set(c) == {403} for c in by_worker.values()), by_worker


def test_a_token_in_the_query_string_is_never_logged(server, published):
    token, _ = issue_token(published, actor="test")
    answer = call(server.port, "GET", f"/api/v1/effacement?token={token}&x=1")
    assert answer.status == 401  # the token is only read from the Authorization header
    ok = call(server.port, "GET", "/api/v1/effacement?secret=soa_in_the_query", token=token)
    assert ok.status == 200
    server.stop()  # flushes the logs
    access = server.access_log.read_text()
    assert '"GET /api/v1/effacement HTTP/1.1" 401' in access and '"GET /api/v1/effacement HTTP/1.1" 200' in access
    assert "?" not in access
    for text in (access, server.logs()):
        assert token not in text and token[:20] not in text and "soa_in_the_query" not in text


def test_each_answer_has_a_request_id_found_in_the_access_log(server, published):
    first = call(server.port, "GET", "/api/v1/effacement")
    second = call(server.port, "GET", "/api/v1/acquiescement?application_date=2026-03-29")
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    server.stop()
    access = server.access_log.read_text()
    assert all(f"id={i} " in access for i in ids)


def test_refused_calls_are_rate_limited_across_workers(tmp_path, published):
    """The counter is shared (the database cache): with two workers, still exactly 6 refusals before 429s."""
    token, _ = issue_token(published, actor="test")
    # Per hour: django-ratelimit's periods are fixed windows, which a per-minute test could straddle.
    server = start_server(tmp_path, SMARTOA_API_FAILURE_RATE="6/h")
    bad = "soa_" + "x" * 43
    pattern = re.compile(r"pid=<?(\d+)>? id=\w+ \"GET /api/v1/effacement HTTP/1.1\" (401|429)")
    try:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: call(server.port, "GET", "/api/v1/effacement", token=bad), range(16)))
        statuses = Counter(a.status for a in answers)
        assert statuses[401] == 6 and statuses[429] == 10, statuses
        limited = next(a for a in answers if a.status == 429)
        assert limited.json()["error"] == "rate_limited" and 1 <= int(limited.headers["retry-after"]) <= 3600
        for _ in range(20):  # until both workers have answered (the exact 6 then shows the counter is shared)
            if len({pid for pid, _ in pattern.findall(server.access_log.read_text())}) == 2:
                break
            with ThreadPoolExecutor(4) as pool:
                assert {
                    a.status
                    for a in pool.map(lambda _: call(server.port, "GET", "/api/v1/effacement", token=bad), range(8))
                } == {429}
        # The Django routes share the counter; a caller with a valid token is still served.
        refused = call(server.port, "POST", "/api/v1/acquiescement", body={"application_date": "2026-03-29"})
        assert refused.status == 429
        assert call(server.port, "GET", "/api/v1/effacement", token=token).status == 200
        assert call(server.port, "GET", "/api/v1/effacement", token=bad, ip="80.12.34.99").status == 401
    finally:
        server.stop()
        cache.clear()
    by_pid = Counter(pid for pid, _ in pattern.findall(server.access_log.read_text()))
    assert len(by_pid) == 2, by_pid
