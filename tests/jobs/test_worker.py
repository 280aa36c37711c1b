"""The real consumer: ``smartoa worker`` in a subprocess, on a SQLite queue file shared with the test, against the
test database. A commit that writes to the outbox queues a delivery that the worker runs; SIGTERM stops it cleanly;
a worker killed (SIGKILL) while a receiver stalls loses nothing: the next worker delivers the message once its
lease has passed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from django.db import transaction

from smartoa.domain.calendar import iso
from smartoa.jobs.engine import LazySqliteStorage, huey
from smartoa.jobs.models import JobRun
from smartoa.notifications.models import OutboxMessage
from smartoa.notifications.services import set_webhook
from tests.factories import publish_day
from tests.notifications.receiver import Receiver, signature_ok
from tests.subprocess_env import subprocess_env

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]
DAY = date(2026, 11, 25)


@pytest.fixture
def queue(tmp_path):
    """The test's jobs go to a SQLite queue file, as a web process's would, for the worker subprocess to run."""
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


class Worker:
    def __init__(self, tmp_path: Path, queue: Path, *args: str, **env: str):
        self.output = tmp_path / f"worker-{time.monotonic_ns()}.log"
        environment = subprocess_env(SMARTOA_JOBS_URL=f"sqlite:///{queue}", SMARTOA_DATA_DIR=str(tmp_path), **env)
        with open(self.output, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smartoa.cli", "worker", *args],
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def logs(self) -> str:
        return self.output.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the worker once it runs (its handlers installed), and wait for it to exit."""
        wait_until(lambda: "thread(s)" in self.logs() or self.process.poll() is not None, what="the worker to start")
        time.sleep(0.3)
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"the worker did not stop within {timeout} s: {self.logs()}")
        return self.process.returncode


def wait_until(condition, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def delivered(message: OutboxMessage) -> bool:
    message.refresh_from_db()
    return message.status == OutboxMessage.Status.DELIVERED


def test_a_committed_publication_is_delivered_by_the_worker_then_sigterm_stops_it(
    tmp_path, queue, receiver, make_contract
):
    contract = make_contract("BOA00001")
    with transaction.atomic():
        secret = set_webhook(contract, receiver.url, actor="test")
    publish_day(contract, DAY)  # commits: a webhook call in the outbox, a delivery queued in the file
    message = OutboxMessage.objects.get(kind="webhook")
    assert message.status == "pending" and huey.storage.queue_size() == 1
    worker = Worker(tmp_path, queue, "--workers", "2")
    try:
        assert receiver.wait_for(1), worker.logs()
        wait_until(lambda: delivered(message), what="the delivery to be recorded")
    finally:
        code = worker.stop(signal.SIGTERM)
    assert code == 0, worker.logs()
    assert "smartoa worker: stopped" in worker.logs()
    (call,) = receiver.requests
    assert call.event == "consigne.published" and call.delivery == str(message.delivery_id)
    assert signature_ok(call, secret)
    assert call.body.decode() == contract.consignes.get().current_version.document
    assert huey.storage.queue_size() == 0  # the queued delivery was taken by the worker
    assert JobRun.objects.filter(name="notifications.deliver", outcome="succeeded").exists()


def test_a_worker_runs_every_periodic_job_at_start_then_sigint_stops_it(tmp_path, queue):
    from smartoa.core.clock import now
    from smartoa.jobs.engine import SCHEDULED
    from smartoa.jobs.health import job_states

    worker = Worker(tmp_path, queue)
    try:
        wait_until(
            lambda: set(JobRun.objects.filter(outcome="succeeded").values_list("name", flat=True)) == set(SCHEDULED),
            what=f"a run of each job: {sorted(SCHEDULED)}",
        )
        # Running at a lower CPU priority than this test (the web processes' default one).
        assert os.getpriority(os.PRIO_PROCESS, worker.process.pid) == os.getpriority(os.PRIO_PROCESS, 0) + 10
    finally:
        assert worker.stop(signal.SIGINT) == 0, worker.logs()
    assert not any(state.late for state in job_states(now()))


def test_a_worker_killed_mid_delivery_loses_nothing(tmp_path, queue, receiver, make_contract):
    contract = make_contract("BOA00001")
    with transaction.atomic():
        secret = set_webhook(contract, receiver.url, actor="test")
    publish_day(contract, DAY)
    message = OutboxMessage.objects.get(kind="webhook")
    receiver.stall.set()  # the receiver accepts the call and never answers
    lease = {"SMARTOA_OUTBOX_LEASE_SECONDS": "3", "SMARTOA_WEBHOOK_TIMEOUT": "60"}
    first = Worker(tmp_path, queue, "--workers", "1", **lease)
    try:
        assert receiver.wait_for(1), first.logs()
    finally:
        first.process.kill()  # SIGKILL, in the middle of the call
        first.process.wait()
    receiver.release()
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 1 and message.lease_until is not None
    # Another worker takes it once the lease has passed, and delivers it.
    wait_until(lambda: time.time() > message.lease_until.timestamp() + 0.2, what=f"lease {iso(message.lease_until)}")
    second = Worker(tmp_path, queue, "--workers", "1", **lease)
    try:
        wait_until(lambda: delivered(message), what="the second worker's delivery")
    finally:
        assert second.stop() == 0, second.logs()
    assert message.attempts == 2
    assert [r.delivery for r in receiver.requests] == [str(message.delivery_id)] * 2  # the same delivery id
    assert all(signature_ok(r, secret) for r in receiver.requests)


def test_the_worker_refuses_an_unmigrated_database(tmp_path):
    env = subprocess_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}", SMARTOA_JOBS_URL=f"sqlite:///{tmp_path / 'q.db'}"
    )
    (tmp_path / "empty.sqlite3").touch()
    done = subprocess.run(
        [sys.executable, "-m", "smartoa.cli", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "migrate" in done.stderr
    assert not os.path.exists(tmp_path / "q.db")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--nice", "20"], "--nice must be between 0 and 19"),
        (["--workers", "0"], "--workers must be between 1 and 64"),
        (["--shutdown-timeout", "-1"], "--shutdown-timeout must not be negative"),
    ],
)
def test_bad_worker_options_are_refused_with_a_message(tmp_path, args, message):
    env = subprocess_env(SMARTOA_JOBS_URL=f"sqlite:///{tmp_path / 'q.db'}", SMARTOA_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "smartoa.cli", "worker", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr
