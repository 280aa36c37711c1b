"""HLAR and change deadlines of delivery days, with the per-day overrides stored in HlarOverride."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils.translation import gettext_noop

from smartoa.audit.services import record
from smartoa.consignes.models import HlarOverride
from smartoa.core.clock import now
from smartoa.domain import deadlines
from smartoa.domain.calendar import iso
from smartoa.domain.errors import Conflict, DeadlinePassed, InvalidInput


def hlar_for(day: date) -> datetime:
    """HLAR of delivery day ``day`` (the override if set, else D−1 at SMARTOA_HLAR_DEFAULT)."""
    override = HlarOverride.objects.filter(delivery_day=day).values_list("hlar_at", flat=True).first()
    return deadlines.hlar(day, settings.SMARTOA_HLAR_DEFAULT, override)


def cutoff_for_hlar(hlar_at: datetime) -> datetime:
    """The incident-change deadline that goes with an HLAR."""
    return deadlines.change_cutoff(hlar_at, settings.SMARTOA_MODIFICATION_CUTOFF_MINUTES)


def hlars_for(days) -> dict[date, datetime]:
    """HLAR of each of ``days`` (one query)."""
    overrides = dict(HlarOverride.objects.filter(delivery_day__in=set(days)).values_list("delivery_day", "hlar_at"))
    return {day: deadlines.hlar(day, settings.SMARTOA_HLAR_DEFAULT, overrides.get(day)) for day in set(days)}


def parse_hhmm(text: str) -> time:
    """A local time written HH:MM; InvalidInput otherwise."""
    try:
        if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
            raise ValueError
        return time.fromisoformat(text)
    except ValueError:
        raise InvalidInput(gettext_noop("%(text)r is not a time HH:MM"), text=str(text)[:20]) from None


def set_hlar(day: date, at: time, *, actor: str, force: bool = False) -> tuple[datetime, datetime]:
    """Set (postpone) the HLAR of ``day`` to local ``at`` on D−1; returns (previous HLAR, new HLAR).

    Refuses, unless ``force``, when the day's current HLAR has already passed or the new one is already past
    (either would reopen or lock the day behind the producers' backs).
    """
    new = deadlines.local_time_on(day - timedelta(days=1), at)
    previous = hlar_for(day)
    moment = now()
    if not force:
        if not deadlines.is_open(moment, previous):
            raise DeadlinePassed(
                gettext_noop(
                    "the HLAR of %(day)s already passed at %(hlar)s; acknowledgments are locked "
                    "(force it to change it anyway)"
                ),
                day=day,
                hlar=previous,
            )
        if not deadlines.is_open(moment, new):
            raise Conflict(gettext_noop("%(hlar)s is already past (force it to set it anyway)"), hlar=new)
    HlarOverride.objects.update_or_create(
        delivery_day=day, defaults={"hlar_at": new, "set_at": moment, "set_by": actor}
    )
    record("hlar.set", actor=actor, day=day.isoformat(), hlar=iso(new), previous=iso(previous), forced=force)
    return previous, new
