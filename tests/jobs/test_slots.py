"""One run per slot across workers: a scheduled run (the scheduler's, catch_up's) claims its period's start with a
JobRun row unique per (job, slot); a second claim of the same slot (another worker's) is skipped and records
nothing; the next slot runs again; direct runs (no slot) always run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smartoa.jobs import engine
from smartoa.jobs.engine import SCHEDULED, catch_up, huey, scheduled, slot_of
from smartoa.jobs.models import JobRun

SLOT = datetime(2026, 12, 6, 10, 5, tzinfo=UTC)


@pytest.fixture
def demo():
    """A periodic job of 5 minutes counting its calls, unregistered afterwards."""
    calls: list[int] = []

    @scheduled("demo.slots", label="demo", every=timedelta(minutes=5))
    def job(counts: dict) -> None:
        calls.append(1)
        counts["calls"] = len(calls)

    try:
        yield job, calls
    finally:
        job.unregister()
        SCHEDULED.pop("demo.slots")
        engine._PERIODIC.pop("demo.slots")
        engine._BY_TASK_NAME.pop("demo_slots")


def test_a_slot_is_the_start_of_its_period_in_utc():
    naive = datetime(2026, 12, 6, 10, 9, 59)  # noqa: DTZ001 - naive means UTC (Huey's scheduler)
    assert slot_of(timedelta(minutes=5), naive) == SLOT
    paris = ZoneInfo("Europe/Paris")
    assert slot_of(timedelta(days=1), datetime(2026, 12, 6, 13, 0, tzinfo=paris)) == datetime(2026, 12, 6, tzinfo=UTC)
    assert slot_of(timedelta(days=1), datetime(2026, 12, 6, 0, 30, tzinfo=paris)) == datetime(2026, 12, 5, tzinfo=UTC)
    assert slot_of(timedelta(hours=1)).tzinfo is not None  # default: the real time now


def test_the_scheduler_gives_each_periodic_run_its_slot(demo):
    tasks = {task.name: task for task in huey.read_periodic(datetime(2026, 12, 6, 10, 5, 30))}  # noqa: DTZ001
    assert tasks["demo_slots"].kwargs == {"slot": SLOT}
    assert tasks["notifications_deliver"].kwargs == {"slot": datetime(2026, 12, 6, 10, 5, tzinfo=UTC)}
    assert "demo_slots" not in {task.name for task in huey.read_periodic(datetime(2026, 12, 6, 10, 6))}  # noqa: DTZ001


@pytest.mark.django_db
def test_two_claims_of_one_slot_run_the_job_once_and_the_next_slot_runs_again(demo):
    job, calls = demo
    job(slot=SLOT)  # a worker's run (immediate mode: at once)
    job(slot=SLOT)  # another worker's run of the same slot: skipped
    assert len(calls) == 1
    (run,) = JobRun.objects.filter(name="demo.slots")
    assert (run.slot, run.outcome, run.counts) == (SLOT, "succeeded", {"calls": 1})
    job(slot=SLOT + timedelta(minutes=5))
    assert len(calls) == 2
    assert JobRun.objects.filter(name="demo.slots", outcome="succeeded").count() == 2


@pytest.mark.django_db
def test_direct_runs_have_no_slot_and_always_run(demo):
    job, calls = demo
    job(slot=SLOT)
    job.call_local()
    job.call_local()
    job()  # queued without a slot (immediate mode)
    assert len(calls) == 4
    assert (
        list(JobRun.objects.filter(name="demo.slots", slot=None).values_list("outcome", flat=True)) == ["succeeded"] * 3
    )


@pytest.mark.django_db
def test_a_failed_run_keeps_its_slot_claimed(demo):
    _, calls = demo

    @scheduled("demo.broken_slots", label="demo", every=timedelta(minutes=5))
    def broken(counts: dict) -> None:
        calls.append(1)
        raise RuntimeError("down")

    try:
        with pytest.raises(RuntimeError):
            broken.call_local(slot=SLOT)
        broken.call_local(slot=SLOT)  # the slot was claimed by the failed run: not run again
        assert len(calls) == 1
        assert JobRun.objects.get(name="demo.broken_slots").outcome == "failed"
    finally:
        broken.unregister()
        SCHEDULED.pop("demo.broken_slots")
        engine._PERIODIC.pop("demo.broken_slots")
        engine._BY_TASK_NAME.pop("demo_broken_slots")


@pytest.mark.django_db
def test_catch_up_at_a_second_worker_start_does_not_run_the_jobs_again():
    first = catch_up()  # a worker starts
    assert set(first) == {name for name, job in SCHEDULED.items() if job.every > timedelta(minutes=1)}
    second = catch_up()  # another worker starts in the same slots
    assert second == first
    for name in first:
        runs = list(JobRun.objects.filter(name=name))
        assert len(runs) == 1, list(JobRun.objects.values_list("name", "slot", "outcome"))
        run = runs[0]
        assert run.slot == slot_of(SCHEDULED[name].every) or run.slot == slot_of(SCHEDULED[name].every) - (
            SCHEDULED[name].every
        )  # the period may have turned between the claim and this check
