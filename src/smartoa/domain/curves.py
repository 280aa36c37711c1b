"""Step grids over consecutive local days, for dense curve arrays. Pure: no Django, no clock.

A grid is a run of consecutive Europe/Paris days laid end to end on the UTC time line: step ``s`` starts at
``origin + 300 s × s``. Days are 288 steps long, 276 or 300 on daylight-saving change days, so a day's steps
are ``day_starts[i]:day_starts[i + 1]``. Step energies follow the *convention commençante* (the value at
12:00 covers 12:00–12:05).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from smartoa.domain.calendar import PARIS, check_day_range, local_midnight, parse_instant, step_count, to_local
from smartoa.domain.errors import InvalidInput, gettext_noop

STEP_SECONDS = 300


def parse_month(text: str) -> date:
    """The first day of the month ``YYYY-MM`` (within the days handled); InvalidInput otherwise."""
    try:
        if not isinstance(text, str) or len(text) != 7:
            raise ValueError
        first = date.fromisoformat(text + "-01")
    except ValueError:
        raise InvalidInput(gettext_noop("%(text)r is not a month YYYY-MM"), text=str(text)[:40]) from None
    return check_day_range(first)


def month_days(month: date) -> list[date]:
    """Every day of the month that contains ``month``."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return [first + timedelta(days=i) for i in range((following - first).days)]


def epoch_seconds(moment: datetime) -> int:
    """Seconds since the Unix epoch of an aware datetime."""
    return int(moment.timestamp())


@dataclass(frozen=True)
class Grid:
    """Consecutive local days as one 5-minute step axis."""

    days: tuple[date, ...]
    origin: int  # epoch seconds of the first day's local midnight
    day_starts: np.ndarray  # int64, len(days) + 1: the first step of each day, then the total

    @classmethod
    def for_days(cls, first: date, last: date) -> Grid:
        """The grid of every day from ``first`` to ``last`` included."""
        if last < first:
            raise ValueError("the last day is before the first")
        days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
        counts = [step_count(d) for d in days]
        return cls(
            days, epoch_seconds(local_midnight(first)), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        )

    @property
    def n_steps(self) -> int:
        return int(self.day_starts[-1])

    def day_index(self, day: date) -> int:
        return (day - self.days[0]).days

    def day_slice(self, day: date) -> slice:
        i = self.day_index(day)
        return slice(int(self.day_starts[i]), int(self.day_starts[i + 1]))

    def instant(self, step: int) -> datetime:
        """The Europe/Paris start instant of a step."""
        return datetime.fromtimestamp(self.origin + STEP_SECONDS * int(step), UTC).astimezone(PARIS)

    def step_of(self, moment: datetime) -> int:
        """The step starting at ``moment`` (may be ``n_steps`` for the grid's end); ValueError off the grid."""
        offset = epoch_seconds(moment) - self.origin
        if offset % STEP_SECONDS or not 0 <= offset <= STEP_SECONDS * self.n_steps:
            raise ValueError(f"{moment.isoformat()} is not a 5-minute step of this grid")
        return offset // STEP_SECONDS

    def step_epochs(self) -> np.ndarray:
        """Epoch seconds of every step's start."""
        return self.origin + STEP_SECONDS * np.arange(self.n_steps, dtype=np.int64)


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class MonthGrid:
    """Whole consecutive local months as one step axis: month ``m`` is the grid's steps
    ``month_starts[m]:month_starts[m + 1]``."""

    grid: Grid
    months: tuple[date, ...]
    month_starts: np.ndarray  # int64, len(months) + 1

    @classmethod
    def covering(cls, first: date, last: date) -> MonthGrid:
        """The months from the one of ``first`` to the one of ``last``, included."""
        months = [month_of(first)]
        while months[-1] < month_of(last):
            months.append(next_month(months[-1]))
        grid = Grid.for_days(months[0], next_month(months[-1]) - timedelta(days=1))
        starts = [int(grid.day_starts[grid.day_index(m)]) for m in months] + [grid.n_steps]
        return cls(grid, tuple(months), np.array(starts, dtype=np.int64))

    @property
    def month_steps(self) -> np.ndarray:
        return np.diff(self.month_starts)

    def day_starts_in_month(self, m: int) -> np.ndarray:
        """The first step of each day of month ``m``, counted from the month's start."""
        grid, first = self.grid, self.months[m]
        a = grid.day_index(first)
        b = grid.day_index(next_month(first))
        return grid.day_starts[a:b] - grid.day_starts[a]


def paris_offsets(epochs: np.ndarray) -> np.ndarray:
    """The Europe/Paris UTC offset in seconds at each instant (epoch seconds, int64), vectorised.

    Built from an hourly table over the instants' range: Paris changes offset on the hour (01:00 UTC).
    """
    if epochs.size == 0:
        return np.zeros(0, dtype=np.int64)
    low = int(epochs.min()) // 3600 * 3600
    high = int(epochs.max()) // 3600 * 3600
    table = np.array(
        [
            int(to_local(datetime.fromtimestamp(t, UTC)).utcoffset().total_seconds())  # type: ignore[union-attr]
            for t in range(low, high + 3600, 3600)
        ],
        dtype=np.int64,
    )
    return table[(epochs - low) // 3600]


def local_days_of(epochs_min: int, epochs_max: int) -> tuple[date, date]:
    """The first and last local days touched by instants in [epochs_min, epochs_max]."""
    first = datetime.fromtimestamp(epochs_min, UTC).astimezone(PARIS).date()
    last = datetime.fromtimestamp(epochs_max, UTC).astimezone(PARIS).date()
    return first, last


def stop_spans(periods: Iterable[Any], grid: Grid) -> list[tuple[int, int, float]]:
    """(first step, end step, value) on ``grid`` of each stop period (value > 0) of a schedule: stored JSON
    periods (``start_date``, ``end_date``, ``value``) or ``Period`` objects. A period must lie on the grid."""
    spans = []
    for p in periods:
        if isinstance(p, dict):
            value, start, end = float(p["value"]), parse_instant(p["start_date"]), parse_instant(p["end_date"])
        else:
            value, start, end = float(p.value), p.start, p.end
        if value > 0:
            spans.append((grid.step_of(start), grid.step_of(end), value))
    return spans
