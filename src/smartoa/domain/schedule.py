"""Consigne schedules: periods covering a local day, their validation and the API document. Pure.

A schedule is the ordered list of periods ``[start, end)`` with a value (1.0 = stop, 0.0 = no stop,
a fraction = limitation, offshore wind only) that covers the whole local day, contiguously.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from smartoa.domain.calendar import (
    STEP_5,
    day_bounds,
    day_length,
    has_local_offset,
    iso,
    parse_day,
    parse_instant,
    to_local,
)
from smartoa.domain.errors import InvalidInput, gettext_noop
from smartoa.domain.text import is_contract_id

ALLOWED_VALUES = (0.0, 1.0)


class ScheduleError(InvalidInput):
    """A consigne document that cannot be accepted; the message says why, in plain words."""


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime
    value: float

    def as_json(self) -> dict[str, object]:
        return {"start_date": iso(self.start), "end_date": iso(self.end), "value": float(self.value)}


@dataclass(frozen=True, slots=True)
class ConsigneDocument:
    """A parsed and validated consigne for one contract and one delivery day."""

    contract_id: str
    delivery_day: date
    periods: tuple[Period, ...]

    @property
    def has_stop(self) -> bool:
        return any(p.value > 0 for p in self.periods)


def validate_periods(day: date, periods: list[Period], *, allow_fractions: bool = False) -> None:
    """Raise ScheduleError unless ``periods`` cover ``day`` exactly, sorted, contiguous, on the 5-minute grid."""
    if not periods:
        raise ScheduleError(gettext_noop("data is empty: the consigne must cover the whole day"))
    start, end = day_bounds(day)
    for n, period in enumerate(periods, start=1):
        for label, moment in (("start_date", period.start), ("end_date", period.end)):
            if not has_local_offset(moment):
                raise ScheduleError(
                    gettext_noop(
                        "period %(n)s: %(field)s %(value)s has the wrong offset for Europe/Paris at that instant "
                        "(expected %(offset)s)"
                    ),
                    n=n,
                    field=label,
                    value=_as_written(moment),
                    offset=_as_written(to_local(moment))[-6:],
                )
            if (moment - start) % STEP_5:
                raise ScheduleError(
                    gettext_noop("period %(n)s: %(field)s %(value)s is not on a 5-minute boundary"),
                    n=n,
                    field=label,
                    value=moment,
                )
        if period.end <= period.start:
            raise ScheduleError(gettext_noop("period %(n)s: end_date is not after start_date"), n=n)
        value = period.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScheduleError(gettext_noop("period %(n)s: value must be a number, not %(value)r"), n=n, value=value)
        if allow_fractions:
            if not 0.0 <= value <= 1.0:
                raise ScheduleError(
                    gettext_noop("period %(n)s: value %(value)s is outside [0.0, 1.0]"), n=n, value=value
                )
        elif value not in ALLOWED_VALUES:
            raise ScheduleError(
                gettext_noop(
                    "period %(n)s: value %(value)s is not allowed (0.0 or 1.0; fractions only for offshore wind)"
                ),
                n=n,
                value=value,
            )
    if periods[0].start != start:
        raise ScheduleError(
            gettext_noop("the first period starts at %(start)s, not at %(expected)s"),
            start=periods[0].start,
            expected=start,
        )
    if periods[-1].end != end:
        raise ScheduleError(
            gettext_noop("the last period ends at %(end)s, not at %(expected)s (this day lasts %(hours)s hours)"),
            end=periods[-1].end,
            expected=end,
            hours=day_length(day) // timedelta(hours=1),
        )
    for n, (before, after) in enumerate(itertools.pairwise(periods), start=2):
        if after.start < before.end:
            raise ScheduleError(
                gettext_noop("period %(n)s overlaps the previous one (starts %(start)s)"), n=n, start=after.start
            )
        if after.start > before.end:
            raise ScheduleError(
                gettext_noop("gap before period %(n)s: nothing from %(start)s to %(end)s"),
                n=n,
                start=before.end,
                end=after.start,
            )


def _as_written(moment: datetime) -> str:
    """An instant with the offset it was written with (ISO 8601): the refusal of a wrong offset must show it, where
    a date-time parameter would be shown in Paris time."""
    return moment.isoformat()


def parse_document(raw: object, *, allow_fractions: Callable[[str], bool] | bool | None = None) -> ConsigneDocument:
    """Parse one consigne in the API format and validate it; ScheduleError on any problem.

    ``allow_fractions`` is a callable ``contract_id -> bool`` (offshore contracts may limit) or a bool.
    ``update_date`` in the input is ignored: the platform stamps each version itself.
    """
    if not isinstance(raw, dict):
        raise ScheduleError(gettext_noop("a consigne must be a JSON object"))
    contract_id = raw.get("id")
    if not isinstance(contract_id, str) or not contract_id:
        raise ScheduleError(gettext_noop("'id' (the contract id) is missing"))
    if not is_contract_id(contract_id):
        raise ScheduleError(
            gettext_noop("'id' %(value)r is not a contract id (3 to 32 upper-case letters and digits)"),
            value=contract_id[:40],
        )
    try:
        day = parse_day(raw.get("application_date"))
    except InvalidInput as exc:
        raise ScheduleError(
            gettext_noop("%(contract_id)s: application_date: %(problem)s"), contract_id=contract_id, problem=exc
        ) from None
    data = raw.get("data")
    if not isinstance(data, list):
        raise ScheduleError(gettext_noop("%(contract_id)s: 'data' must be a list of periods"), contract_id=contract_id)
    periods = []
    for n, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not {"start_date", "end_date", "value"} <= item.keys():
            raise ScheduleError(
                gettext_noop("%(contract_id)s: period %(n)s needs start_date, end_date and value"),
                contract_id=contract_id,
                n=n,
            )
        try:
            start, end = parse_instant(item["start_date"]), parse_instant(item["end_date"])
        except InvalidInput as exc:
            raise ScheduleError(
                gettext_noop("%(contract_id)s: period %(n)s: %(problem)s"), contract_id=contract_id, n=n, problem=exc
            ) from None
        periods.append(Period(start, end, item["value"]))
    fractions = allow_fractions(contract_id) if callable(allow_fractions) else bool(allow_fractions)
    try:
        validate_periods(day, periods, allow_fractions=fractions)
    except ScheduleError as exc:
        raise ScheduleError(
            gettext_noop("%(contract_id)s %(day)s: %(problem)s"), contract_id=contract_id, day=day, problem=exc
        ) from None
    normalised = tuple(Period(p.start, p.end, float(p.value)) for p in periods)
    return ConsigneDocument(contract_id, day, normalised)


def render_document(contract_id: str, update_date: datetime, delivery_day: date, periods: Iterable[Period]) -> bytes:
    """The API document, in the seed's key order and layout (2-space indent), as UTF-8 bytes."""
    document = {
        "id": contract_id,
        "update_date": iso(update_date),
        "application_date": delivery_day.isoformat(),
        "data": [p.as_json() for p in periods],
    }
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


def no_stop_periods(day: date) -> tuple[Period, ...]:
    """The schedule of a day without any stop: one period at 0.0."""
    start, end = day_bounds(day)
    return (Period(start, end, 0.0),)


def changes(before: Sequence[Period], after: Sequence[Period]) -> list[tuple[datetime, datetime, float, float]]:
    """Where two schedules of the same day differ: (start, end, value before, value after) for each maximal run
    of instants whose value changed, in time order."""
    cuts = sorted(
        {p.start.astimezone(UTC) for p in (*before, *after)} | {p.end.astimezone(UTC) for p in (*before, *after)}
    )

    def value_at(periods: Sequence[Period], moment: datetime) -> float:
        return next((p.value for p in periods if p.start <= moment < p.end), 0.0)

    runs: list[tuple[datetime, datetime, float, float]] = []
    for a, b in itertools.pairwise(cuts):
        old, new = value_at(before, a), value_at(after, a)
        if old == new:
            continue
        if runs and runs[-1][1] == a and runs[-1][2:] == (old, new):
            runs[-1] = (runs[-1][0], b, old, new)
        else:
            runs.append((a, b, old, new))
    return [(to_local(a), to_local(b), old, new) for a, b, old, new in runs]


def periods_from_json(data: list[dict[str, Any]]) -> tuple[Period, ...]:
    """Rebuild stored periods (already validated) from their JSON form."""
    return tuple(Period(parse_instant(d["start_date"]), parse_instant(d["end_date"]), float(d["value"])) for d in data)


__all__ = [
    "ConsigneDocument",
    "Period",
    "ScheduleError",
    "no_stop_periods",
    "parse_document",
    "periods_from_json",
    "render_document",
    "validate_periods",
]
