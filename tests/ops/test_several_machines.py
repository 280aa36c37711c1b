"""Several machines: two web processes (``smartoa serve`` on 127.0.0.2 and 127.0.0.3, each in its own process
group) and two workers (``smartoa worker``) sharing one PostgreSQL and one Redis (the Huey queue and the cache),
with a webhook receiver and an SMTP server on loopback. During a publication storm (publications by the command
line, modifications by the services, acknowledgments through both web processes) one web process and one worker
are killed (SIGKILL). Counted at the receivers: every message written to the outbox arrives; a delivery id
arrives twice only if its worker died while sending it (the platform's contract is at-least-once with the
``X-SmartOA-Delivery`` id for the receiver to dedupe: docs/api.md); every acknowledgment answered 201 is a row,
and no row exists that was not asked for. Periodic jobs run by both workers send each reminder once.

PostgreSQL only (SQLite is one machine's file); Redis at ``SMARTOA_TEST_REDIS_URL`` (default
redis://127.0.0.1:6379/13, a database this test flushes)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from huey.storage import RedisStorage

from smartoa.consignes.models import Acknowledgment
from smartoa.consignes.services import modify
from smartoa.contracts.services import add_ips
from smartoa.domain.calendar import PARIS, day_bounds, local_day_of
from smartoa.domain.schedule import ConsigneDocument, Period
from smartoa.jobs.engine import huey
from smartoa.notifications.models import OutboxMessage
from smartoa.notifications.services import set_webhook
from tests.api.servers import PRODUCTION, free_port
from tests.factories import PUBLIC_IP, add_account, make_contract, make_token
from tests.notifications.receiver import Receiver
from tests.subprocess_env import subprocess_env

pytestmark = [
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="several machines share PostgreSQL, not SQLite"),
]
aiosmtpd = pytest.importorskip("aiosmtpd.controller")
REDIS_URL = os.environ.get("SMARTOA_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
CONTRACTS = 20
DAYS = 3
WITH_ACCOUNTS = 6  # contracts whose holder receives the publication e-mails
LEASE = 3  # SMARTOA_OUTBOX_LEASE_SECONDS of the workers: a killed worker's messages are taken again soon


def redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    client.flushdb()
    return client


class Mailbox:
    def __init__(self):
        self.ids: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        for line in envelope.original_content.decode(errors="replace").splitlines():
            if line.lower().startswith("x-smartoa-delivery:"):
                self.ids.append(line.split(":", 1)[1].strip())
        return "250 OK"


class Machine:
    """A process in its own process group (a machine of its own: SIGKILL takes all its processes)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path):
        self.name, self.log = name, log
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_listening(host: str, port: int, machine: Machine) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            assert machine.process.poll() is None, machine.log.read_text()
            time.sleep(0.2)
    pytest.fail(f"{machine.name} did not start: {machine.log.read_text()}")


def whole_day(contract_id: str, day, value: float) -> dict:
    """The API document of a consigne for ``day``: one period over the whole day (value 0 or 1)."""
    first, last = day_bounds(day)
    return {
        "id": contract_id,
        "application_date": day.isoformat(),
        "data": [{"start_date": first.isoformat(), "end_date": last.isoformat(), "value": value}],
    }


def post(host: str, port: int, token: str, day) -> int:
    import http.client

    body = json.dumps({"application_date": day.isoformat()}).encode()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "X-Forwarded-For": PUBLIC_IP,
        "X-Forwarded-Proto": "https",
    }
    client = http.client.HTTPConnection(host, port, timeout=20)
    try:
        client.request("POST", "/api/v1/acquiescement", body=body, headers=headers)
        return client.getresponse().status
    finally:
        client.close()


STARTED = time.monotonic()


def stamp(what: str) -> None:
    print(f"{time.monotonic() - STARTED:6.1f} s {what}")  # noqa: T201 - the run's timeline, read with -s


def test_two_web_processes_and_two_workers_lose_nothing_when_one_of_each_is_killed(tmp_path):
    assert connection.vendor == "postgresql"
    redis_client = redis_or_skip()
    receiver = Receiver()
    mailbox = Mailbox()
    smtp = aiosmtpd.Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    today = local_day_of(datetime.now(PARIS))
    days = [today + timedelta(days=2 + n) for n in range(DAYS)]  # their HLAR (D−1 16:30) still ahead
    contracts, tokens = [], {}
    for n in range(CONTRACTS):
        contract = make_contract(f"BOA{20001 + n}")
        with transaction.atomic():
            set_webhook(contract, receiver.url, actor="test")
            add_ips(contract, [PUBLIC_IP], actor="test")
            if n < WITH_ACCOUNTS:
                add_account(contract, f"holder{n}@example.org")
        tokens[contract.contract_id] = make_token(contract)
        contracts.append(contract)

    before = set(OutboxMessage.objects.values_list("pk", flat=True))  # the login e-mails, sent by the test's own
    shared = {
        "SMARTOA_JOBS_URL": REDIS_URL,
        "SMARTOA_CACHE_URL": REDIS_URL,
        "SMARTOA_DATA_DIR": str(tmp_path),
        "SMARTOA_EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "SMARTOA_OUTBOX_LEASE_SECONDS": str(LEASE),
    }
    web_env = subprocess_env(**{**PRODUCTION, **shared, "SMARTOA_ALLOWED_HOSTS": "127.0.0.2,127.0.0.3"})
    hosts = [("127.0.0.2", free_port()), ("127.0.0.3", free_port())]
    machines: list[Machine] = []
    cli = [sys.executable, "-m", "smartoa.cli"]
    # The test process's own services (the modifications) queue their deliveries on the same Redis.
    huey.immediate, storage = False, huey.storage
    huey.storage = RedisStorage(huey.name, url=REDIS_URL)
    try:
        webs = [
            Machine(
                f"web{n}",
                [*cli, "serve", "--host", h, "--port", str(p), "--workers", "2"],
                web_env,
                tmp_path / f"web{n}.log",
            )
            for n, (h, p) in enumerate(hosts)
        ]
        workers = [
            Machine(
                f"worker{n}", [*cli, "worker", "--workers", "4"], subprocess_env(**shared), tmp_path / f"worker{n}.log"
            )
            for n in range(2)
        ]
        machines = webs + workers
        for web, (h, p) in zip(webs, hosts, strict=True):
            wait_listening(h, p, web)

        answers: Counter = Counter()
        acknowledged: Counter = Counter()  # 201 answers per contract
        in_doubt = Counter()  # requests cut by the kill: committed or not, the client cannot know
        published: list = []  # the days whose consigne exists, for the acknowledgments
        stop = threading.Event()
        lock = threading.Lock()

        def producer(index: int) -> None:
            contract_id = contracts[index].contract_id
            n = 0
            while not stop.is_set():
                if not published:
                    time.sleep(0.05)
                    continue
                day = published[n % len(published)]
                for host, port in (hosts[n % 2], hosts[(n + 1) % 2]):  # the other machine if this one is gone
                    try:
                        status = post(host, port, tokens[contract_id], day)
                    except ConnectionRefusedError:
                        continue  # never reached the machine: try the other
                    except OSError:
                        with lock:
                            in_doubt[contract_id] += 1
                        break
                    with lock:
                        answers[status] += 1
                        if status == 201:
                            acknowledged[contract_id] += 1
                    break
                n += 1

        clients = [threading.Thread(target=producer, args=(i,), daemon=True) for i in range(0, CONTRACTS, 3)]
        for thread in clients:
            thread.start()
        killed_at = None
        for number, day in enumerate(days):
            document = tmp_path / f"day{number}.json"
            document.write_text(json.dumps([whole_day(c.contract_id, day, 0.0) for c in contracts]))
            published_by_cli = subprocess.run(
                [*cli, "consignes", "publish", str(document), "--force", "--reason", "storm"],
                env=subprocess_env(**shared),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert published_by_cli.returncode == 0, published_by_cli.stderr
            published.append(day)
            stamp(f"published day {number}")
            first, last = day_bounds(day)
            with transaction.atomic():
                modify(
                    [ConsigneDocument(c.contract_id, day, (Period(first, last, 1.0),)) for c in contracts],
                    reason="storm",
                    actor="test",
                )
            if number == 1:  # mid-storm: one machine of each kind dies
                time.sleep(0.5)
                webs[0].kill()
                workers[0].kill()
                killed_at = time.monotonic()
        stamp("storm over")
        time.sleep(2)
        stop.set()
        for thread in clients:
            thread.join(30)

        written = OutboxMessage.objects.exclude(pk__in=before)
        expected_calls = set(written.filter(kind=OutboxMessage.Kind.WEBHOOK).values_list("delivery_id", flat=True))
        expected_mails = set(written.filter(kind=OutboxMessage.Kind.EMAIL).values_list("delivery_id", flat=True))
        assert len(expected_calls) == CONTRACTS * DAYS * 2
        expected = {str(d) for d in expected_calls | expected_mails}
        deadline = time.monotonic() + 100  # the killed worker's messages: after their lease, the next periodic run
        while time.monotonic() < deadline:
            arrived = {r.delivery for r in receiver.requests} | set(mailbox.ids)
            if expected <= arrived:
                break
            time.sleep(0.5)
        stamp("arrived")
        waited = time.monotonic() - (killed_at or time.monotonic())
        arrived_calls = Counter(r.delivery for r in receiver.requests)
        arrived_mails = Counter(mailbox.ids)
        missing = expected - set(arrived_calls) - set(arrived_mails)
        lost = OutboxMessage.objects.filter(delivery_id__in=list(missing)).values_list(
            "kind", "event", "status", "attempts", "last_error"
        )
        assert not missing, f"{len(missing)} messages lost: {list(lost)}; worker: {workers[1].log.read_text()[-3000:]}"
        assert set(arrived_calls) == {str(d) for d in expected_calls}  # nothing that was not written
        twice = {d: c for d, c in (arrived_calls + arrived_mails).items() if c > 1}
        if twice:  # only a message whose worker died while sending it may arrive again (its lease passed)
            retried = set(
                OutboxMessage.objects.filter(delivery_id__in=list(twice), attempts__gte=2).values_list(
                    "delivery_id", flat=True
                )
            )
            assert {str(d) for d in retried} == set(twice), twice
        assert OutboxMessage.objects.exclude(status=OutboxMessage.Status.DELIVERED).count() == 0

        rows = Counter(
            Acknowledgment.objects.filter(channel="api").values_list("consigne__contract__contract_id", flat=True)
        )
        for contract_id in set(rows) | set(acknowledged):
            assert acknowledged[contract_id] <= rows[contract_id] <= acknowledged[contract_id] + in_doubt[contract_id]
        assert answers[201] > 0 and set(answers) <= {201, 503}, answers
        # Periodic jobs: both workers' schedulers queue each job every minute; the reminders they send are unique.
        reminders = OutboxMessage.objects.filter(event="acknowledgment.reminder")
        assert reminders.values("dedupe_key").distinct().count() == reminders.count()
        print(  # noqa: T201 - the figures of the run, read with -s
            f"\nseveral machines: {CONTRACTS} contracts × {DAYS} days published (CLI) and modified (services); "
            f"{len(expected_calls)} webhook calls and {len(expected_mails)} e-mails written, all arrived "
            f"({sum(arrived_calls.values()) + sum(arrived_mails.values())} arrivals, {len(twice)} ids twice); "
            f"acknowledgments: {dict(answers)} answers, {sum(rows.values())} rows, {sum(in_doubt.values())} "
            f"cut by the kill; last message {waited:.0f} s after the kill"
        )
    finally:
        huey.storage = storage
        huey.immediate = True
        for machine in machines:
            machine.stop()
        receiver.close()
        smtp.stop()
        redis_client.flushdb()
