"""Recording job runs: ``recorded(name)`` wraps one run of a job in a ``JobRun`` row, written and finished outside
the job's own transaction, so that a failed run (its work rolled back) is still recorded as failed.
``claim(name, slot)`` starts the row of a scheduled run only if no other run has claimed the same slot (a unique
constraint): one run per slot across workers."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import IntegrityError, transaction

from smartoa.core.clock import now
from smartoa.jobs.models import JobRun

MESSAGE_LIMIT = 4000  # characters of the error and the end of its traceback kept on a failed run


def claim(name: str, slot: datetime) -> JobRun | None:
    """Start the ``running`` row of job ``name``'s run for ``slot``; None (nothing written) if a run of the same
    job has already claimed that slot (another worker's)."""
    try:
        with transaction.atomic():
            return JobRun.objects.create(name=name, started_at=now(), slot=slot)
    except IntegrityError:
        return None


@contextmanager
def recorded(name: str, *, run: JobRun | None = None) -> Iterator[dict]:
    """Record one run of job ``name``: a ``running`` row at the start (or ``run``, the row ``claim`` started); at
    the end ``succeeded`` with the counts the job put in the yielded dict, or ``failed`` with the error (the
    exception is raised again). The job opens its own transaction inside the block; call this outside any (the rows
    commit on their own)."""
    if run is None:
        run = JobRun.objects.create(name=name, started_at=now())
    counts: dict = {}
    try:
        yield counts
    except BaseException as exc:
        text = "".join(traceback.format_exception(exc))
        message = f"{type(exc).__name__}: {exc}"[:500]
        excerpt = text[-(MESSAGE_LIMIT - len(message) - 1) :]
        _finish(run.pk, JobRun.Outcome.FAILED, counts, f"{message}\n{excerpt}")
        raise
    _finish(run.pk, JobRun.Outcome.SUCCEEDED, counts, "")


def _finish(pk: int, outcome: str, counts: dict, message: str) -> None:
    JobRun.objects.filter(pk=pk).update(outcome=outcome, finished_at=now(), counts=counts, message=message)


def prune_runs(before: datetime) -> int:
    """Delete the records of runs started before ``before``; returns how many."""
    count, _ = JobRun.objects.filter(started_at__lt=before).delete()
    return count
