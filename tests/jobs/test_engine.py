"""The task engine's wiring: the queue chosen by SMARTOA_JOBS_URL (SQLite file created at first use, Redis,
PostgreSQL), the periodic jobs registered with their periods, run records committed even when the job fails, the
control screen's job states, and the settings refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import translation
from huey.storage import RedisStorage

from smartoa.jobs.engine import SCHEDULED, LazyPostgresStorage, LazySqliteStorage, _crontab, build
from smartoa.jobs.health import job_states
from smartoa.jobs.models import JobRun
from smartoa.jobs.runs import prune_runs, recorded
from tests.core.test_settings import SECURE
from tests.factories import clock, paris
from tests.subprocess_env import smartoa

NOW = paris("2026-11-24", "10:00")


def test_the_default_queue_is_a_sqlite_file_created_at_first_use(tmp_path):
    queue = build("", tmp_path / "data")
    assert isinstance(queue.storage, LazySqliteStorage)
    assert not (tmp_path / "data").exists()  # nothing at import or build
    queue.storage.enqueue(b"job", 0)
    assert (tmp_path / "data" / "jobs.sqlite3").exists()
    assert queue.storage.dequeue() == b"job" and queue.storage.queue_size() == 0
    explicit = build(f"sqlite:///{tmp_path / 'other.db'}", tmp_path)
    assert explicit.storage.filename == str(tmp_path / "other.db")


def test_redis_urls_give_a_redis_queue():
    queue = build("redis://127.0.0.1:6379/15", "/nowhere")
    assert isinstance(queue.storage, RedisStorage)
    try:
        queue.storage.flush_queue()
    except Exception as exc:  # noqa: BLE001 - no Redis here: the wiring is what is checked
        pytest.skip(f"no Redis on 127.0.0.1:6379 ({exc})")
    queue.storage.enqueue(b"job", 0)
    assert queue.storage.dequeue() == b"job"


@pytest.mark.django_db
def test_postgres_urls_give_a_shared_queue_in_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL run only")
    from tests.subprocess_env import database_url

    queue = build(database_url(), "/nowhere")
    assert isinstance(queue.storage, LazyPostgresStorage)
    try:
        queue.storage.flush_queue()
        queue.storage.enqueue(b"job", 0)
        other = build(database_url(), "/nowhere")  # another machine's worker
        assert other.storage.dequeue() == b"job" and queue.storage.queue_size() == 0
        other.storage.close()
    finally:
        queue.storage.close()


def test_periodic_jobs_are_registered_with_their_periods():
    assert {name: job.every for name, job in SCHEDULED.items()} == {
        "notifications.deliver": timedelta(minutes=1),
        "notifications.purge": timedelta(days=1),
        "consignes.reminders": timedelta(minutes=1),
        "consignes.missing": timedelta(minutes=1),
        "contracts.token_expiry": timedelta(hours=1),
        "jobs.prune": timedelta(days=1),
    }
    assert all(job.label for job in SCHEDULED.values())
    assert _crontab(timedelta(minutes=5))(paris("2026-11-24", "10:05").replace(tzinfo=None))
    assert not _crontab(timedelta(minutes=5))(paris("2026-11-24", "10:06").replace(tzinfo=None))
    with pytest.raises(ValueError, match="divisor"):
        _crontab(timedelta(minutes=7))


@pytest.mark.django_db(transaction=True)
def test_a_run_is_recorded_even_when_the_job_fails_and_rolls_back(settings, make_contract):
    from smartoa.contracts.models import Contract

    settings.SMARTOA_NOW = NOW
    with recorded("demo.ok") as counts:
        counts["sent"] = 3

    def broken_job():
        with recorded("demo.broken") as counts, transaction.atomic():
            make_contract("BOA00001")
            counts["written"] = 1
            _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        broken_job()
    assert not Contract.objects.exists()  # the job's work was rolled back…
    ok, broken = JobRun.objects.get(name="demo.ok"), JobRun.objects.get(name="demo.broken")  # … not its record
    assert (ok.outcome, ok.counts, ok.started_at, ok.finished_at) == ("succeeded", {"sent": 3}, NOW, NOW)
    assert broken.outcome == "failed" and broken.counts == {"written": 1}
    assert broken.message.startswith("ZeroDivisionError: division by zero") and "Traceback" in broken.message


@pytest.mark.django_db
def test_job_states_say_which_job_is_late():
    def runs(name, *rows):
        for started, outcome in rows:
            with clock(started):
                if outcome == "succeeded":
                    with recorded(name):
                        pass
                else:
                    with pytest.raises(RuntimeError), recorded(name):
                        raise RuntimeError("down")

    runs("notifications.deliver", (NOW - timedelta(minutes=1), "succeeded"))
    runs("consignes.reminders", (NOW - timedelta(minutes=3), "succeeded"), (NOW - timedelta(minutes=1), "failed"))
    runs("contracts.token_expiry", (NOW - timedelta(hours=1, minutes=59), "succeeded"))
    states = {s.name: s for s in job_states(NOW)}
    assert list(states) == sorted(SCHEDULED)
    deliver, reminders, tokens = (
        states["notifications.deliver"],
        states["consignes.reminders"],
        states["contracts.token_expiry"],
    )
    assert (
        not deliver.late and deliver.last_outcome == "succeeded" and deliver.last_success == NOW - timedelta(minutes=1)
    )
    assert deliver.every == timedelta(minutes=1)
    with translation.override("fr"):  # the label is the operators' French, translated when shown
        assert str(deliver.label) == "Envoi des e-mails et webhooks"
    with translation.override("en"):
        assert str(deliver.label) == "Sending e-mails and webhooks"
    assert reminders.late and reminders.last_outcome == "failed"  # no success within 2 minutes
    assert reminders.last_success == NOW - timedelta(minutes=3) and reminders.last_run.outcome == "failed"
    assert not tokens.late
    assert job_states(NOW + timedelta(minutes=2))[0].late  # nothing for 2 hours + 1 minute
    never = states["jobs.prune"]
    assert never.late and never.last_run is None and never.last_success is None and never.last_outcome is None


@pytest.mark.django_db
def test_old_run_records_are_pruned(settings):
    for days in (40, 31, 29):
        with clock(NOW - timedelta(days=days)), recorded("notifications.deliver"):
            pass
    assert prune_runs(NOW - timedelta(days=30)) == 2
    assert JobRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMARTOA_JOBS_URL": "amqp://rabbit"}, "SMARTOA_JOBS_URL"),
        ({"SMARTOA_REMINDER_MINUTES": "0"}, "SMARTOA_REMINDER_MINUTES must be at least 1"),
        ({"SMARTOA_REMINDER_MINUTES": "two hours"}, "integer"),
        ({"SMARTOA_OPERATOR_EMAILS": "ops@example.org,not-an-address"}, "SMARTOA_OPERATOR_EMAILS"),
        ({"SMARTOA_TOKEN_WARNING_DAYS": "30,seven"}, "SMARTOA_TOKEN_WARNING_DAYS"),
        ({"SMARTOA_TOKEN_WARNING_DAYS": "30,0"}, "SMARTOA_TOKEN_WARNING_DAYS"),
        ({"SMARTOA_OUTBOX_MAX_ATTEMPTS": "0"}, "SMARTOA_OUTBOX_MAX_ATTEMPTS"),
        ({"SMARTOA_OUTBOX_RETRY_SECONDS": "-1"}, "SMARTOA_OUTBOX_RETRY_SECONDS"),
        ({"SMARTOA_OUTBOX_LEASE_SECONDS": "1"}, "SMARTOA_OUTBOX_LEASE_SECONDS"),
        ({"SMARTOA_OUTBOX_KEEP_DAYS": "0"}, "SMARTOA_OUTBOX_KEEP_DAYS"),
        ({"SMARTOA_JOB_RUNS_KEEP_DAYS": "0"}, "SMARTOA_JOB_RUNS_KEEP_DAYS"),
        ({"SMARTOA_WEBHOOK_TIMEOUT": "0"}, "SMARTOA_WEBHOOK_TIMEOUT must be above 0"),
        ({"SMARTOA_WEBHOOK_TIMEOUT": "nan"}, "finite"),
        ({"SMARTOA_WEBHOOK_CONCURRENCY": "1000"}, "SMARTOA_WEBHOOK_CONCURRENCY must be at most 256"),
        ({"SMARTOA_NOTIFICATION_SENDER": "pigeon"}, "SMARTOA_NOTIFICATION_SENDER"),
    ],
)
def test_bad_job_settings_are_named(env, message):
    result = smartoa("check", **env)
    assert result.returncode == 2 and message in result.stderr, result.stderr


@pytest.mark.django_db(transaction=True)
def test_production_refuses_the_in_memory_sender():
    result = smartoa("check", **SECURE, SMARTOA_NOTIFICATION_SENDER="memory")
    assert result.returncode == 2 and "SMARTOA_NOTIFICATION_SENDER" in result.stderr
    good = smartoa(
        "check", **SECURE, SMARTOA_JOBS_URL="redis://127.0.0.1:6379/0", SMARTOA_OPERATOR_EMAILS="a@b.fr, C@D.fr"
    )
    assert good.returncode == 0, good.stderr


def test_services_queue_tasks_by_name_and_each_name_is_one_task():
    """A service queues its work by name (jobs.engine.queue_task) without importing the jobs module that imports
    it; the names registered are the features' tasks, and a second task cannot take a name already used."""
    from smartoa.billing.requests import COMPLIANCE
    from smartoa.jobs.engine import QUEUED, task
    from smartoa.notifications.outbox import DELIVER_SOON

    assert {COMPLIANCE, DELIVER_SOON} <= set(QUEUED)
    with pytest.raises(ValueError, match="two queued tasks"):
        task(name=DELIVER_SOON)(lambda: None)
