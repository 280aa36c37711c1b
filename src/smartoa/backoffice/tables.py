"""Tables of the back office, declared once: a list of columns drives the page's table and its CSV and Excel
exports (the files' headers are the columns' keys, stable names for scripts; the page shows their labels).

A row is a dict keyed by the columns' keys, holding plain values (text, numbers, aware datetimes, a state).
``cell`` (``backoffice`` template tags) shows a value on the page according to its column's ``show``;
``export_value`` writes it in a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse

from smartoa.domain.calendar import iso
from smartoa.exports import writers

PER_PAGE = 50
EXPORT_FORMATS = {"csv": "CSV", "xlsx": "Excel"}


@dataclass(frozen=True)
class Column(writers.Column):
    """``show``: how the page shows the value — ``text``, ``datetime`` (Paris time), ``state`` (a badge),
    ``contract`` (a link to the contract's page), ``json`` (details), ``lines`` (a tuple, one item a line)."""

    show: str = "text"


def export_value(value):
    """A value as the CSV and Excel files hold it."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, tuple):
        return "; ".join(str(v) for v in value)
    return value


def export_rows(rows: Iterable[dict], columns: Sequence[Column]) -> Iterator[dict]:
    for row in rows:
        yield {c.key: export_value(row.get(c.key)) for c in columns}


def export_response(fmt: str, rows: Iterable[dict], columns: Sequence[Column], *, name: str) -> HttpResponse:
    """The rows as a CSV or Excel download ``name.fmt``."""
    cells = export_rows(rows, columns)
    body = writers.to_csv(cells, list(columns)) if fmt == "csv" else writers.to_xlsx(cells, list(columns), sheet=name)
    response = HttpResponse(body, content_type=writers.FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def page_of(request: HttpRequest, items, per_page: int = PER_PAGE) -> Page:
    """The page asked for by ``?page=`` (the last one when past the end, the first one when not a number)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def query_without(request: HttpRequest, *names: str) -> str:
    """The request's query string without ``names`` (to build page and export links that keep the filters)."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
