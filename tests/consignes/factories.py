"""Helpers to publish and change consignes in tests (used by tests/consignes and tests/api)."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db import transaction

from smartoa.consignes.services import modify, publish
from smartoa.domain.calendar import PARIS, day_bounds
from smartoa.domain.schedule import ConsigneDocument, Period


def paris(day: str, hhmm: str) -> datetime:
    """An aware Europe/Paris instant: paris("2025-09-21", "16:29")."""
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), tzinfo=PARIS)


def stop_periods(day: date, start: str = "11:55", end: str = "18:00") -> tuple[Period, ...]:
    """The day with one stop [start, end) local time (default: the seed's 11:55–18:00)."""
    first, last = day_bounds(day)
    t0, t1 = paris(day.isoformat(), start), paris(day.isoformat(), end)
    return (Period(first, t0, 0.0), Period(t0, t1, 1.0), Period(t1, last, 0.0))


def as_json(contract_id: str, day: date, periods) -> dict:
    """The API document (without update_date) of a schedule."""
    return {"id": contract_id, "application_date": day.isoformat(), "data": [p.as_json() for p in periods]}


def publish_day(contract, day: date, periods=None):
    """Publish version 1 of ``contract``'s consigne for ``day``; returns the version."""
    with transaction.atomic():
        return publish([ConsigneDocument(contract.contract_id, day, periods or stop_periods(day))], actor="test")[0]


def modify_day(contract, day: date, periods, reason: str = "incident"):
    """An incident change of ``contract``'s consigne for ``day``; returns the new version."""
    with transaction.atomic():
        return modify([ConsigneDocument(contract.contract_id, day, periods)], reason=reason, actor="test")[0]
