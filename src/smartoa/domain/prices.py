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

from smartoa.domain.calendar import STEP_15, day_bounds, iso, parse_instant, step_count, steps
from smartoa.domain.errors import InvalidInput

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
        raise PriceFileError(f"line {reader.line_num}: not readable as CSV: {exc}") from None


def _parse(reader: Iterator[list[str]], day: date) -> tuple[float, ...]:
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header[:2]) != COLUMNS or any(header[2:]):
        raise PriceFileError(f"line 1: the header must be 'start,price', not {','.join(header)[:60]!r}")
    start, end = day_bounds(day)
    count = step_count(day, STEP_15)
    prices: list[float | None] = [None] * count
    first_line: dict[int, int] = {}
    errors: list[str] = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        problem = _check_row(row, line, start, end, first_line)
        if isinstance(problem, str):
            errors.append(f"line {line}: {problem}")
            continue
        index, price = problem
        first_line[index] = line
        prices[index] = price
    if not first_line and errors:
        raise PriceFileError(
            f"price file refused: no line is a quarter-hour of {day.isoformat()} (wrong file or wrong day?); "
            f"first problem: {errors[0]}"
        )
    missing = [moment for n, moment in enumerate(steps(day, STEP_15)) if n not in first_line]
    errors.extend(f"missing quarter-hour {iso(moment)}" for moment in missing)
    if errors:
        shown = errors[:MAX_ERRORS]
        more = f"\n… and {len(errors) - MAX_ERRORS} more" if len(errors) > MAX_ERRORS else ""
        raise PriceFileError(
            f"price file refused for {day.isoformat()} ({count} quarter-hours expected):\n" + "\n".join(shown) + more
        )
    return tuple(p for p in prices if p is not None)


def _check_row(
    row: list[str], line: int, start: datetime, end: datetime, first_line: dict[int, int]
) -> str | tuple[int, float]:
    """(quarter-hour index, price) of one CSV row, or the problem in words."""
    if len(row) != 2:
        return f"expected 2 columns (start,price), found {len(row)}"
    raw_start, raw_price = row[0].strip(), row[1].strip()
    try:
        moment = parse_instant(raw_start)
    except InvalidInput as exc:
        return str(exc)
    if not start <= moment < end:
        return f"{raw_start} is outside the day {iso(start)[:10]} ({iso(start)} to {iso(end)})"
    offset = moment - start
    if offset % STEP_15:
        return f"{raw_start} is not the start of a quarter-hour"
    index = offset // STEP_15
    if index in first_line:
        return f"{raw_start} is a duplicate of line {first_line[index]}"
    try:
        price = float(raw_price)
    except ValueError:
        return f"price {raw_price!r} is not a number"
    if not math.isfinite(price):
        return f"price {raw_price!r} is not a finite number"
    return index, price
