"""Consigne generation from the 15-minute day-ahead prices of a delivery day. Pure.

Every quarter-hour priced below the threshold is a stop quarter-hour; consecutive ones form a stop window
[t0, t1). Each window becomes a stop period [t0 − lead, t1) (lead: 5 minutes, for the ramp-down), never moved
before the day's local midnight; the rest of the day is 0.0. Arithmetic is done on instants (UTC), so the
23- and 25-hour days come out right.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone

from smartoa.domain.calendar import PARIS, STEP_15, day_bounds, step_count
from smartoa.domain.schedule import Period

RAMP_LEAD = timedelta(minutes=5)


def _local(moment: datetime) -> datetime:
    """``moment`` in Europe/Paris with a fixed offset, so comparisons and subtractions stay exact on the
    repeated hour of the autumn change (zoneinfo datetimes compare by wall time)."""
    local = moment.astimezone(PARIS)
    return local.replace(tzinfo=timezone(local.utcoffset() or timedelta(0)))


def stop_windows(day: date, prices: Sequence[float], threshold: float = 0.0) -> list[tuple[datetime, datetime]]:
    """The runs of quarter-hours priced strictly below ``threshold``, as [t0, t1) instants (local offsets)."""
    count = step_count(day, STEP_15)
    if len(prices) != count:
        raise ValueError(f"{day.isoformat()} has {count} quarter-hours, {len(prices)} prices given")
    origin = day_bounds(day)[0].astimezone(UTC)
    windows: list[tuple[datetime, datetime]] = []
    run_start = None
    for n, price in enumerate([*prices, None]):
        below = price is not None and price < threshold
        if below and run_start is None:
            run_start = n
        elif not below and run_start is not None:
            windows.append((_local(origin + run_start * STEP_15), _local(origin + n * STEP_15)))
            run_start = None
    return windows


def periods_from_windows(
    day: date, windows: Iterable[tuple[datetime, datetime]], lead: timedelta = RAMP_LEAD
) -> tuple[Period, ...]:
    """The day's contiguous schedule: each window [t0, t1) stops from max(t0 − lead, midnight) to t1."""
    day_start, day_end = (moment.astimezone(UTC) for moment in day_bounds(day))
    periods: list[Period] = []
    cursor = day_start
    for t0, t1 in windows:
        stop_start = max(t0.astimezone(UTC) - lead, day_start, cursor)
        stop_end = t1.astimezone(UTC)
        if stop_start > cursor:
            periods.append(Period(_local(cursor), _local(stop_start), 0.0))
        if periods and periods[-1].value == 1.0 and periods[-1].end.astimezone(UTC) == stop_start:
            periods[-1] = Period(periods[-1].start, _local(stop_end), 1.0)
        else:
            periods.append(Period(_local(stop_start), _local(stop_end), 1.0))
        cursor = stop_end
    if cursor < day_end:
        periods.append(Period(_local(cursor), _local(day_end), 0.0))
    return tuple(periods)


def generate_periods(
    day: date, prices: Sequence[float], threshold: float = 0.0, lead: timedelta = RAMP_LEAD
) -> tuple[Period, ...]:
    """The consigne schedule of ``day`` from its quarter-hour prices (see the module docstring)."""
    return periods_from_windows(day, stop_windows(day, prices, threshold), lead)


def describe(periods: Sequence[Period]) -> str:
    """A short human summary: 'no stop' or 'stop 11:55–18:00, 20:00–24:00' (local times)."""
    day_end = periods[-1].end if periods else None
    parts = []
    for p in periods:
        if p.value <= 0:
            continue
        end = "24:00" if p.end == day_end else p.end.astimezone(PARIS).strftime("%H:%M")
        value = "" if p.value == 1.0 else f" at {p.value:g}"
        parts.append(f"{p.start.astimezone(PARIS).strftime('%H:%M')}–{end}{value}")
    return "stop " + ", ".join(parts) if parts else "no stop"
