"""JSON, CSV and XLSX writers shared by the command line, the back office and the portal.

A table is a list of ``Column`` and rows (dicts keyed by ``Column.key``) holding plain Python values (text,
numbers, dates, aware datetimes, booleans, codes). Two readers, two shapes of the same table:

- **machines** (the command line, scripts): ``to_csv`` and ``to_xlsx(for_people=False)`` — headed by the keys,
  ISO 8601 dates and times, codes as they are, comma-separated CSV with a decimal point;
- **people** (the portal's and back office's downloads): ``to_people_csv`` and ``to_xlsx`` — headed by the
  columns' labels in the request's language, dates as ``05/12/2026`` and times as ``05/12/2026 19:52`` (Paris
  time), codes in words followed by a column keeping the code, "oui"/"non"; the CSV opens in a spreadsheet of
  that language (UTF-8 with a byte-order mark; in French ``;`` between cells and a decimal comma), the workbook
  holds real dates and numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import xlsxwriter
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from smartoa.domain.calendar import iso, to_local

FORMATS = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BOM = "\ufeff"


@dataclass(frozen=True)
class Column:
    """``label``: the header people read (lazy translation). ``words``: for a column of codes, the code in words
    (people's files show the words, then the code in an extra column headed "<label> (code)")."""

    key: str
    label: str | Promise = ""
    words: Callable[[Any], str] | None = None


def machine_value(value):
    """A value as machines read it: ISO 8601 dates and times, codes as they are."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, tuple):
        return "; ".join(str(machine_value(v)) for v in value)
    return value


def _french() -> bool:
    return (get_language() or "fr").startswith("fr")


def people_text(value) -> str:
    """A value as a person reads it in a spreadsheet cell (Paris time, the language's decimal separator)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if isinstance(value, datetime):
        return to_local(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int | float | Decimal):
        text = str(value)
        return text.replace(".", ",") if _french() else text
    if isinstance(value, tuple | list):
        return "; ".join(people_text(v) for v in value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def people_headers(columns: list[Column]) -> list[str]:
    headers = []
    for column in columns:
        label = str(column.label or column.key)
        headers.append(label)
        if column.words is not None:
            headers.append(_("%(label)s (code)") % {"label": label})
    return headers


def people_cells(row: dict, columns: list[Column]) -> list:
    """The row's cells for people: each value, and for a column of codes its words then its code."""
    cells = []
    for column in columns:
        value = row.get(column.key)
        if column.words is None:
            cells.append(value)
        else:
            cells.append(None if value in (None, "") else str(column.words(value)))
            cells.append(machine_value(value))
    return cells


def to_json(document) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


def to_csv(rows: Iterable[dict], columns: list[Column]) -> bytes:
    """CSV for machines: keys as headers, ISO dates, codes, ``,`` between cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c.key) is None else machine_value(row.get(c.key)) for c in columns])
    return buffer.getvalue().encode()


def to_people_csv(rows: Iterable[dict], columns: list[Column]) -> bytes:
    """CSV for a spreadsheet in the request's language (see the module's docstring)."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=";" if _french() else ",", lineterminator="\r\n")
    writer.writerow(people_headers(columns))
    for row in rows:
        writer.writerow([people_text(cell) for cell in people_cells(row, columns)])
    return buffer.getvalue().encode()


def to_xlsx(rows: Iterable[dict], columns: list[Column], *, sheet: str = "data", for_people: bool = True) -> bytes:
    """An Excel workbook: for people, labels as headers, real dates (Paris time) and numbers, codes in words
    beside their code; for machines, the keys and ISO text."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False, "remove_timezone": True})
    page = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True})
    moment = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    headers = people_headers(columns) if for_people else [c.key for c in columns]
    for j, header in enumerate(headers):
        page.write_string(0, j, header, bold)
    width = [len(h) for h in headers]
    for i, row in enumerate(rows, start=1):
        cells = people_cells(row, columns) if for_people else [machine_value(row.get(c.key)) for c in columns]
        for j, value in enumerate(cells):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                page.write_string(i, j, people_text(value)) if for_people else page.write_boolean(i, j, value)
            elif isinstance(value, int | float | Decimal):
                page.write_number(i, j, float(value))
            elif isinstance(value, datetime):
                page.write_datetime(i, j, to_local(value).replace(tzinfo=None), moment)
                width[j] = max(width[j], 16)
            elif isinstance(value, date):
                page.write_datetime(i, j, value, day)
                width[j] = max(width[j], 10)
            else:
                text = people_text(value) if for_people else str(value)
                page.write_string(i, j, text)
                width[j] = max(width[j], min(len(text), 60))
    if for_people:
        for j, w in enumerate(width):
            page.set_column(j, j, w + 2)
    page.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


def render(
    fmt: str, *, document, rows: list[dict], columns: list[Column], sheet: str = "data", for_people: bool = True
) -> bytes:
    """``document`` for JSON, ``rows``/``columns`` for CSV and XLSX (people's shape unless ``for_people`` is
    False: the command line's files)."""
    if fmt == "json":
        return to_json(document)
    if fmt == "csv":
        return to_people_csv(rows, columns) if for_people else to_csv(rows, columns)
    if fmt == "xlsx":
        return to_xlsx(rows, columns, sheet=sheet, for_people=for_people)
    raise ValueError(f"unknown format {fmt!r} (json, csv or xlsx)")
