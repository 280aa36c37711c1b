"""The production server (gunicorn, 2 workers): a revoked token or a removed IP is refused on the very next
request, by every worker — nothing is cached between requests."""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command

from smartoa.contracts.services import issue_token, remove_ips
from tests.subprocess_env import subprocess_env

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

DOC = """{"id": "BOA00001", "application_date": "2026-03-29", "data": [
 {"start_date": "2026-03-29T00:00:00+01:00", "end_date": "2026-03-30T00:00:00+02:00", "value": 0.0}]}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port, log = free_port(), tmp_path / "access.log"
    env = subprocess_env(
        SMARTOA_ENV="production",
        SMARTOA_SECRET_KEY="p" * 50,
        SMARTOA_ALLOWED_HOSTS="127.0.0.1",
        SMARTOA_DATA_DIR=str(tmp_path),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "smartoa.cli", "serve", "--port", str(port), "--workers", "2", "--access-log", str(log)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"server exited: {process.stdout.read().decode()}")
            time.sleep(0.2)
    yield port, log
    process.terminate()
    process.wait(timeout=30)


def get(port: int, token: str, tag: str = "") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", f"/api/v1/effacement?round={tag}", headers={"Authorization": f"Bearer {token}"})
    status = connection.getresponse().status
    connection.close()
    return status


def statuses_by_worker(port: int, token: str, log, *, minimum_per_worker: int = 3) -> dict[int, Counter]:
    """Send requests (4 at a time, fresh connections) until both workers answered a few; their statuses per pid."""
    tag = uuid.uuid4().hex  # marks this round's requests in the access log
    pattern = re.compile(rf"pid=<?(\d+)>? \"GET /api/v1/effacement\?round={tag} [^\"]*\" (\d{{3}})")
    for _ in range(100):
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: get(port, token, tag), range(8)))
        time.sleep(0.05)  # let the access log flush
        per_pid: dict[int, Counter] = {}
        with open(log) as handle:
            for match in pattern.finditer(handle.read()):
                per_pid.setdefault(int(match[1]), Counter())[int(match[2])] += 1
        if len(per_pid) >= 2 and all(sum(c.values()) >= minimum_per_worker for c in per_pid.values()):
            return per_pid
    pytest.fail(f"the two workers were not both reached: {per_pid}")


def test_revocation_and_ip_removal_reach_every_worker_at_once(server, make_contract, tmp_path):
    port, log = server
    contract = make_contract("BOA00001")
    call_command("ips", "add", "BOA00001", "127.0.0.1")
    (tmp_path / "doc.json").write_text(DOC)
    call_command("consignes", "publish", str(tmp_path / "doc.json"))
    old, _ = issue_token(contract, actor="test")

    by_worker = statuses_by_worker(port, old, log)
    assert all(set(c) == {200} for c in by_worker.values()), by_worker

    new, _ = issue_token(contract, actor="test")  # revokes ``old``
    by_worker = statuses_by_worker(port, old, log)
    assert all(set(c) == {401} for c in by_worker.values()), by_worker
    assert get(port, new) == 200

    remove_ips(contract, ["127.0.0.1"], actor="test")
    by_worker = statuses_by_worker(port, new, log)
    assert all(set(c) == {403} for c in by_worker.values()), by_worker
