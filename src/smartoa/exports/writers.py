"""JSON, CSV and XLSX writers shared by the command line, the back office and the portal.

A table is a list of ``Column`` and rows (dicts keyed by ``Column.key``); CSV and XLSX write the same columns
in the same order, headed by the keys (stable names for scripts).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

import xlsxwriter

FORMATS = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str = ""


def to_json(document) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


def to_csv(rows: Iterable[dict], columns: list[Column]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in columns])
    return buffer.getvalue().encode()


def to_xlsx(rows: Iterable[dict], columns: list[Column], *, sheet: str = "data") -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    page = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True})
    for j, column in enumerate(columns):
        page.write_string(0, j, column.key, bold)
    for i, row in enumerate(rows, start=1):
        for j, column in enumerate(columns):
            value = row.get(column.key)
            if value is None:
                continue
            if isinstance(value, bool):
                page.write_boolean(i, j, value)
            elif isinstance(value, int | float):
                page.write_number(i, j, value)
            else:
                page.write_string(i, j, str(value))
    page.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


def render(fmt: str, *, document, rows: list[dict], columns: list[Column], sheet: str = "data") -> bytes:
    """``document`` for JSON, ``rows``/``columns`` for CSV and XLSX."""
    if fmt == "json":
        return to_json(document)
    if fmt == "csv":
        return to_csv(rows, columns)
    if fmt == "xlsx":
        return to_xlsx(rows, columns, sheet=sheet)
    raise ValueError(f"unknown format {fmt!r} (json, csv or xlsx)")
