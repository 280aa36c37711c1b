"""Local days in Europe/Paris and their step grids. Pure: no Django, no clock.

A local day runs from local midnight to the next local midnight: 24 hours, or 23/25 hours on the days
daylight-saving time starts/ends. Never build a day as 24 hours.

Beware: Python subtracts and compares two datetimes sharing one tzinfo (e.g. both PARIS) on the wall clock,
ignoring the offset. Do interval arithmetic in UTC (``astimezone(UTC)``), as the functions below do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from smartoa.domain.errors import InvalidInput, gettext_noop

PARIS = ZoneInfo("Europe/Paris")
STEP_5 = timedelta(minutes=5)
STEP_15 = timedelta(minutes=15)
# The days the platform reasons about. Input outside is refused up front, so that no computation meets the
# ends of Python's calendar (a local day of 9999-12-31 ends in year 10000).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


def local_midnight(day: date) -> datetime:
    """The aware datetime (Europe/Paris) of local midnight starting ``day``."""
    return datetime.combine(day, time(0), tzinfo=PARIS)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of the local day as aware Europe/Paris datetimes."""
    return local_midnight(day), local_midnight(day + timedelta(days=1))


def day_length(day: date) -> timedelta:
    """The true length of the local day: 23, 24 or 25 hours."""
    start, end = day_bounds(day)
    return end.astimezone(UTC) - start.astimezone(UTC)


def to_local(moment: datetime) -> datetime:
    """The same instant in Europe/Paris, with the offset in force at that instant."""
    if moment.utcoffset() is None:
        raise ValueError("naive datetime: an offset is required")
    return moment.astimezone(PARIS)


def local_day_of(moment: datetime) -> date:
    """The Europe/Paris calendar day an instant falls in."""
    return to_local(moment).date()


def step_count(day: date, step: timedelta = STEP_5) -> int:
    """Number of steps in the local day: 288/276/300 for 5 minutes, 96/92/100 for 15 minutes."""
    return day_length(day) // step


def steps(day: date, step: timedelta = STEP_5) -> Iterator[datetime]:
    """Start instants of every step of the local day, as Europe/Paris datetimes with the right offsets."""
    start, end = day_bounds(day)
    cursor, stop = start.astimezone(UTC), end.astimezone(UTC)
    while cursor < stop:
        yield cursor.astimezone(PARIS)
        cursor += step


def step_index(day: date, moment: datetime, step: timedelta = STEP_5) -> int:
    """Index of the step starting at ``moment`` in the local day; ValueError if not on the grid or outside."""
    start, end = day_bounds(day)
    offset = moment.astimezone(UTC) - start.astimezone(UTC)
    if not start <= moment < end:
        raise ValueError(f"{moment.isoformat()} is outside the local day {day.isoformat()}")
    if offset % step:
        raise ValueError(f"{moment.isoformat()} is not on a {int(step.total_seconds() // 60)}-minute boundary")
    return offset // step


def has_local_offset(moment: datetime) -> bool:
    """True when ``moment`` carries the Europe/Paris offset in force at that instant."""
    return moment.utcoffset() == to_local(moment).utcoffset()


def iso(moment: datetime) -> str:
    """ISO 8601 in Europe/Paris with seconds and offset, as the API writes it: 2025-09-22T11:55:00+02:00."""
    return to_local(moment).isoformat(timespec="seconds")


def _shown(text: object) -> object:
    """Input echoed in a message, cut short (a refused field may be megabytes long)."""
    return text[:40] if isinstance(text, str) else text


def check_day_range(day: date) -> date:
    """``day`` itself, or InvalidInput when it lies outside the days the platform handles (2000–2099)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(
            gettext_noop("%(day)s is outside the days handled (%(first)s to %(last)s)"),
            day=day,
            first=FIRST_DAY,
            last=LAST_DAY,
        )
    return day


def parse_instant(text: object) -> datetime:
    """Parse an ISO date-time that must carry an offset and fall in the days handled; InvalidInput otherwise."""
    try:
        if not isinstance(text, str):
            raise TypeError
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput(gettext_noop("%(text)r is not an ISO 8601 date-time"), text=_shown(text)) from None
    if moment.utcoffset() is None:
        raise InvalidInput(gettext_noop("%(text)r has no UTC offset"), text=_shown(text))
    check_day_range(moment.date())
    return moment


def parse_day(text: object) -> date:
    """Parse YYYY-MM-DD strictly, within the days handled; InvalidInput otherwise."""
    try:
        if not isinstance(text, str) or len(text) != 10:
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(gettext_noop("%(text)r is not a date YYYY-MM-DD"), text=_shown(text)) from None
    return check_day_range(day)
