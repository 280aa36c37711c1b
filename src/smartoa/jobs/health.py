"""Whether each periodic job runs as it should: its last run, its last success, and ``late`` when it has not
succeeded within twice its period (the worker stopped, or the job keeps failing). Read by the back office's
control screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from smartoa.jobs.engine import SCHEDULED

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise
from smartoa.jobs.models import JobRun


@dataclass(frozen=True)
class JobState:
    name: str
    label: StrOrPromise  # in French, translated when shown
    every: timedelta
    last_run: JobRun | None
    last_success: datetime | None
    late: bool  # no success within 2 × every (or never)
    last_outcome: str | None  # JobRun.Outcome of the last run; None if it never ran


def job_states(now: datetime) -> list[JobState]:
    """The state of every periodic job at ``now``, by name (two small queries per job)."""
    states = []
    for job in sorted(SCHEDULED.values(), key=lambda j: j.name):
        runs = JobRun.objects.filter(name=job.name)
        last = runs.order_by("-started_at", "-id").first()
        success = (
            runs.filter(outcome=JobRun.Outcome.SUCCEEDED)
            .order_by("-started_at", "-id")
            .values_list("finished_at", flat=True)
            .first()
        )
        late = success is None or now - success > 2 * job.every
        states.append(JobState(job.name, job.label, job.every, last, success, late, last.outcome if last else None))
    return states
