"""Typed consigne documents and their strict validation.

A document is what ``GET /api/v1/effacement`` serves (the seed's format). ``parse_document`` refuses, with a
message naming the fault, anything a plant controller must not act on: a period that is not 0/1, a timestamp
without offset or with an offset Europe/Paris does not have at that instant, a gap or an overlap between
periods, a first or last period that does not meet the local day's midnight (so a 24-hour document on a 23- or
25-hour day is refused), an unexpected contract or day.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PARIS = ZoneInfo("Europe/Paris")


class InvalidDocument(ValueError):
    """A document the server sent that must not be used; ``problems`` lists every fault found."""

    def __init__(self, problems: list[str], contract: str | None = None, day: date | None = None):
        self.problems = problems
        where = " ".join(x for x in (contract, day.isoformat() if day else None) if x)
        prefix = f"invalid consigne document{' (' + where + ')' if where else ''}"
        super().__init__(f"{prefix}: " + "; ".join(problems))


class Period(BaseModel):
    """One period of a day: [start_date, end_date), ``value`` 1.0 = stop production (effacement), 0.0 = no stop."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_date: datetime
    end_date: datetime
    value: float

    @field_validator("value", mode="before")
    @classmethod
    def _zero_or_one(cls, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value not in (0, 1):
            raise ValueError(f"value must be 0.0 or 1.0, got {value!r}")
        return float(value)

    @field_validator("start_date", "end_date", mode="before")
    @classmethod
    def _iso_with_offset(cls, value: Any) -> datetime:
        return _aware(value)

    @property
    def stop(self) -> bool:
        return self.value == 1.0


class Consigne(BaseModel):
    """A contract's consigne for one local day (Europe/Paris)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    update_date: datetime
    application_date: date
    data: list[Period]

    @field_validator("update_date", mode="before")
    @classmethod
    def _iso_with_offset(cls, value: Any) -> datetime:
        return _aware(value)

    @field_validator("application_date", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> date:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(f"application_date must be YYYY-MM-DD, got {value!r}")
        return date.fromisoformat(value)

    def value_at(self, moment: datetime) -> float | None:
        """The value in force at ``moment`` (aware), None outside the day."""
        for period in self.data:
            if period.start_date <= moment < period.end_date:
                return period.value
        return None

    def stops(self) -> list[Period]:
        return [p for p in self.data if p.stop]


def _aware(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date-time string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    if moment.utcoffset() is None:
        raise ValueError(f"{value!r} has no UTC offset (Europe/Paris times carry +01:00 or +02:00)")
    return moment


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The local day's first instant and the next day's (aware, Europe/Paris)."""
    start = datetime.combine(day, time(0), tzinfo=PARIS)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS)
    return start, end


def day_hours(day: date) -> float:
    start, end = day_bounds(day)
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600


def _offset(moment: datetime) -> str:
    text = moment.isoformat()
    return text[-6:]


def paris_offset_problem(moment: datetime, field: str) -> str | None:
    """A message when ``moment``'s offset is not Europe/Paris's offset at that instant."""
    expected = moment.astimezone(PARIS)
    if moment.utcoffset() != expected.utcoffset():
        return (
            f"{field} {moment.isoformat()} has offset {_offset(moment)} but Europe/Paris is at "
            f"{_offset(expected)} at that instant ({expected.isoformat()})"
        )
    return None


def check(consigne: Consigne, contract: str | None = None, day: date | None = None) -> list[str]:
    """Every fault of ``consigne`` (empty when it can be used)."""
    problems: list[str] = []
    if contract is not None and consigne.id != contract:
        problems.append(f"the document is for contract {consigne.id}, expected {contract}")
    if day is not None and consigne.application_date != day:
        problems.append(f"application_date is {consigne.application_date}, expected {day}")
    if problem := paris_offset_problem(consigne.update_date, "update_date"):
        problems.append(problem)
    if not consigne.data:
        problems.append("data is empty: the periods must cover the whole local day")
        return problems
    the_day = consigne.application_date
    start, end = day_bounds(the_day)
    for index, period in enumerate(consigne.data):
        for field in ("start_date", "end_date"):
            if problem := paris_offset_problem(getattr(period, field), f"data[{index}].{field}"):
                problems.append(problem)
        if period.end_date.astimezone(UTC) <= period.start_date.astimezone(UTC):
            problems.append(
                f"data[{index}] ends ({period.end_date.isoformat()}) before it starts ({period.start_date.isoformat()})"
            )
        if index:
            previous = consigne.data[index - 1].end_date
            if period.start_date > previous:
                problems.append(
                    f"gap between data[{index - 1}] ending {previous.isoformat()} and data[{index}] starting "
                    f"{period.start_date.isoformat()}"
                )
            elif period.start_date < previous:
                problems.append(
                    f"overlap: data[{index}] starts {period.start_date.isoformat()} before data[{index - 1}] ends "
                    f"{previous.isoformat()}"
                )
    first, last = consigne.data[0].start_date, consigne.data[-1].end_date
    covered = (last.astimezone(UTC) - first.astimezone(UTC)).total_seconds() / 3600
    expected_hours = day_hours(the_day)
    if covered != expected_hours:
        problems.append(
            f"the periods cover {covered:g} h but the local day {the_day} lasts {expected_hours:g} h in Europe/Paris"
        )
    if first != start:
        problems.append(f"the first period starts {first.isoformat()}, not at the day's start {start.isoformat()}")
    if last != end:
        problems.append(f"the last period ends {last.isoformat()}, not at the day's end {end.isoformat()}")
    return problems


def parse_document(raw: bytes | str | dict, contract: str | None = None, day: date | None = None) -> Consigne:
    """The validated Consigne of ``raw`` (JSON bytes/text or decoded); InvalidDocument listing every fault."""
    try:
        data = json.loads(raw) if isinstance(raw, bytes | str) else raw
    except ValueError as exc:
        raise InvalidDocument([f"not JSON: {exc}"], contract, day) from None
    if not isinstance(data, dict):
        raise InvalidDocument([f"expected a JSON object, got {type(data).__name__}"], contract, day)
    try:
        consigne = Consigne.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "document"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}")
        raise InvalidDocument(problems, contract, day) from None
    if problems := check(consigne, contract, day):
        raise InvalidDocument(problems, contract, day)
    return consigne


def canonical_hash(raw: bytes | str | dict) -> str:
    """A hash of the document's content, the same whatever its formatting (the API's two paths indent
    differently)."""
    data = json.loads(raw) if isinstance(raw, bytes | str) else raw
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
