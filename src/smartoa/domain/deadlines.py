"""Deadlines of a delivery day D. Pure: the default time, overrides and "now" are passed in.

HLAR (heure limite d'accès au réseau) of D is on D−1 at the default local time (16:30, Europe/Paris) unless
postponed for that day. Incident changes are accepted until HLAR − cutoff minutes (16:00 by default);
acknowledgments until HLAR. Both are strict: at the deadline itself the day is locked.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from smartoa.domain.calendar import PARIS
from smartoa.domain.errors import InvalidInput, gettext_noop


def default_hlar(day: date, default_time: time) -> datetime:
    """HLAR of delivery day ``day`` without override: D−1 at ``default_time``, Europe/Paris."""
    return local_time_on(day - timedelta(days=1), default_time)


def hlar(day: date, default_time: time, override: datetime | None = None) -> datetime:
    """HLAR of ``day``: the override when there is one, else the default on D−1."""
    return override.astimezone(PARIS) if override is not None else default_hlar(day, default_time)


def change_cutoff(hlar_at: datetime, cutoff_minutes: int) -> datetime:
    """The last instant (exclusive) for an incident change: HLAR − ``cutoff_minutes``."""
    return (hlar_at.astimezone(UTC) - timedelta(minutes=cutoff_minutes)).astimezone(PARIS)


def is_open(now: datetime, deadline: datetime) -> bool:
    """True while ``now`` is strictly before ``deadline``."""
    return now < deadline


def local_time_on(day: date, at: time) -> datetime:
    """The aware Europe/Paris instant of local ``at`` on ``day``; InvalidInput if that local time does not exist
    (spring-forward gap). An ambiguous time (autumn) is the first occurrence."""
    moment = datetime.combine(day, at.replace(tzinfo=None), tzinfo=PARIS)
    round_trip = moment.astimezone(UTC).astimezone(PARIS)
    if round_trip.replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise InvalidInput(
            gettext_noop("%(time)s does not exist on %(day)s (clocks go forward)"),
            time=at.strftime("%H:%M"),
            day=day,
        )
    return round_trip
