"""Two real workers (``smartoa worker`` subprocesses, as on two machines) sharing the test database and a Redis
queue: each starts its scheduler and its catch-up, so each enqueues every periodic job; each job is recorded once
per slot all the same. Redis at ``SMARTOA_TEST_SLOTS_REDIS_URL`` (default redis://127.0.0.1:6379/12, a database
this test flushes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from smartoa.jobs.engine import SCHEDULED
from smartoa.jobs.models import JobRun
from tests.jobs.test_worker import wait_until
from tests.subprocess_env import subprocess_env

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]
REDIS_URL = os.environ.get("SMARTOA_TEST_SLOTS_REDIS_URL", "redis://127.0.0.1:6379/12")


def start_worker(tmp_path: Path, index: int) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"worker-{index}.log"
    data = tmp_path / f"machine-{index}"
    data.mkdir()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "smartoa.cli", "worker"],
            env=subprocess_env(SMARTOA_JOBS_URL=REDIS_URL, SMARTOA_DATA_DIR=str(data)),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


def test_two_workers_run_each_periodic_job_once_per_slot(tmp_path):
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    client.flushdb()
    workers = [start_worker(tmp_path, index) for index in (1, 2)]
    logs = lambda: "\n".join(log.read_text(errors="replace") for _, log in workers)  # noqa: E731
    try:
        wait_until(lambda: logs().count("thread(s)") == 2, what="both workers to start")
        wait_until(
            lambda: set(JobRun.objects.filter(outcome="succeeded").values_list("name", flat=True)) == set(SCHEDULED),
            what=f"a run of each job: {sorted(SCHEDULED)}",
        )
        time.sleep(2)  # the second worker's runs of the same slots, had they not been skipped
    finally:
        for process, _ in workers:
            process.send_signal(signal.SIGTERM)
        for process, _ in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        client.flushdb()
    runs = list(JobRun.objects.values_list("name", "slot"))
    assert all(slot is not None for _, slot in runs), runs  # every run came from a scheduler or a catch-up
    assert max(Counter(runs).values()) == 1, runs  # … and claimed its slot alone
    for name, job in SCHEDULED.items():
        if job.every > timedelta(minutes=1):
            assert [n for n, _ in runs].count(name) == 1, (name, runs, logs())  # caught up by one worker only
