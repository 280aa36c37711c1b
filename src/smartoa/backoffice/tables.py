"""Tables of the back office, declared once: a list of columns drives the page's table and its CSV and Excel
exports for people (headed by the columns' labels, codes in words beside their code).

A row is a dict keyed by the columns' keys, holding plain values (text, numbers, aware datetimes, a state).
``cell`` (``backoffice`` template tags) shows a value on the page according to its column's ``show``;
``export_response`` writes the rows in a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse

from smartoa.exports import writers

PER_PAGE = 50
EXPORT_FORMATS = {"csv": "CSV", "xlsx": "Excel"}


@dataclass(frozen=True)
class Column(writers.Column):
    """``show``: how the page shows the value — ``text``, ``datetime`` (Paris time), ``state`` (a badge), ``channel``,
    ``contract`` (a link to the contract's page), ``json`` (details), ``lines`` (a tuple, one item a line)."""

    show: str = "text"


def export_response(fmt: str, rows: Iterable[dict], columns: Sequence[Column], *, name: str) -> HttpResponse:
    """The rows as a CSV or Excel download ``name.fmt`` for people (``exports/writers.py``): the columns' labels,
    Paris times, states and actions in words each followed by its code."""
    from smartoa.backoffice.templatetags.backoffice import channel_label, event_label, status_label

    words = {"state": status_label, "action": event_label, "channel": channel_label}
    people = [writers.Column(c.key, c.label, words=words.get(c.show)) for c in columns]
    body = writers.render(fmt, document=None, rows=list(rows), columns=people, sheet=name)
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
