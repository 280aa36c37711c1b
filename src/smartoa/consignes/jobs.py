"""The consignes' periodic jobs: acknowledgment reminders before each day's HLAR and the operators' warning at
HLAR. Each run looks at the data (the days' HLAR, postponed or not, and their acknowledgments) and is
idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy

from smartoa.consignes.reminders import send_reminders, warn_operators
from smartoa.core.clock import now
from smartoa.jobs.engine import scheduled


@scheduled(
    "consignes.reminders", label=gettext_lazy("Rappels d'acquiescement avant l'HLAR"), every=timedelta(minutes=1)
)
def reminders(counts: dict) -> None:
    with transaction.atomic():
        counts.update(send_reminders(now()))


@scheduled(
    "consignes.missing",
    label=gettext_lazy("Alerte aux opérateurs : acquiescements manquants"),
    every=timedelta(minutes=1),
)
def missing(counts: dict) -> None:
    with transaction.atomic():
        counts.update(warn_operators(now()))
