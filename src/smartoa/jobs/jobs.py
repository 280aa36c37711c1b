"""The jobs package's own periodic job: forgetting old run records."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy

from smartoa.core.clock import now
from smartoa.jobs.engine import scheduled
from smartoa.jobs.runs import prune_runs


@scheduled("jobs.prune", label=gettext_lazy("Purge des exécutions anciennes"), every=timedelta(days=1))
def prune(counts: dict) -> None:
    """Delete run records older than SMARTOA_JOB_RUNS_KEEP_DAYS."""
    counts["deleted"] = prune_runs(now() - timedelta(days=settings.SMARTOA_JOB_RUNS_KEEP_DAYS))
