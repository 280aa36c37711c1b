"""Day-ahead price files: CSV ``start,price``, one line per quarter-hour of a local day. Pure.

A file is accepted only when it holds exactly the day's quarter-hours (92, 96 or 100), each once; every
refusal names the offending line (or the missing quarter-hour).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from datetime import date, datetime

from smartoa.domain.calendar import STEP_15, day_bounds, local_day_of, parse_instant, step_count, steps
from smartoa.domain.errors import InvalidInput, UserError, at_most, gettext_noop

COLUMNS = ("start", "price")
MAX_ERRORS = 20


class PriceFileError(InvalidInput):
    """A price file that cannot be used; the message lists the problems line by line."""


def parse_prices(text: str, day: date) -> tuple[float, ...]:
    """The prices (€/MWh) of ``day``'s quarter-hours, in time order; PriceFileError naming every bad line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        return _parse(reader, day)
    except csv.Error as exc:
        raise PriceFileError(
            gettext_noop("line %(line)s: not readable as CSV: %(problem)s"), line=reader.line_num, problem=str(exc)
        ) from None


def _parse(reader: Iterator[list[str]], day: date) -> tuple[float, ...]:
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header[:2]) != COLUMNS or any(header[2:]):
        raise PriceFileError(
            gettext_noop("line 1: the header must be 'start,price', not %(header)r"), header=",".join(header)[:60]
        )
    start, end = day_bounds(day)
    count = step_count(day, STEP_15)
    prices: list[float | None] = [None] * count
    first_line: dict[int, int] = {}
    errors: list[UserError] = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        problem = _check_row(row, line, start, end, first_line)
        if isinstance(problem, UserError):
            errors.append(PriceFileError(gettext_noop("line %(line)s: %(problem)s"), line=line, problem=problem))
            continue
        index, price = problem
        first_line[index] = line
        prices[index] = price
    if not first_line and errors:
        raise PriceFileError(
            gettext_noop(
                "price file refused: no line is a quarter-hour of %(day)s (wrong file or wrong day?); "
                "first problem: %(problem)s"
            ),
            day=day,
            problem=errors[0],
        )
    missing = [moment for n, moment in enumerate(steps(day, STEP_15)) if n not in first_line]
    errors.extend(PriceFileError(gettext_noop("missing quarter-hour %(start)s"), start=moment) for moment in missing)
    if errors:
        raise PriceFileError(
            gettext_noop("price file refused for %(day)s (%(count)s quarter-hours expected):\n%(problems)s"),
            day=day,
            count=count,
            problems=at_most(errors, MAX_ERRORS),
        )
    return tuple(p for p in prices if p is not None)


def _check_row(
    row: list[str], line: int, start: datetime, end: datetime, first_line: dict[int, int]
) -> UserError | tuple[int, float]:
    """(quarter-hour index, price) of one CSV row, or its problem."""
    if len(row) != 2:
        return PriceFileError(gettext_noop("expected 2 columns (start,price), found %(count)s"), count=len(row))
    raw_start, raw_price = row[0].strip(), row[1].strip()
    try:
        moment = parse_instant(raw_start)
    except InvalidInput as exc:
        return exc
    if not start <= moment < end:
        return PriceFileError(
            gettext_noop("%(start)s is outside the day %(day)s (%(first)s to %(last)s)"),
            start=moment,
            day=local_day_of(start),
            first=start,
            last=end,
        )
    offset = moment - start
    if offset % STEP_15:
        return PriceFileError(gettext_noop("%(start)s is not the start of a quarter-hour"), start=moment)
    index = offset // STEP_15
    if index in first_line:
        return PriceFileError(
            gettext_noop("%(start)s is a duplicate of line %(line)s"), start=moment, line=first_line[index]
        )
    try:
        price = float(raw_price)
    except ValueError:
        return PriceFileError(gettext_noop("price %(value)r is not a number"), value=raw_price[:40])
    if not math.isfinite(price):
        return PriceFileError(gettext_noop("price %(value)r is not a finite number"), value=raw_price[:40])
    return index, price
