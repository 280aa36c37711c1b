"""Small helpers for the raw SQL of the fast paths (bulk publication, month-wide reads)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from django.db import connection

T = TypeVar("T")

CHUNK = 500  # ids per IN (...) list: SQLite allows 999 parameters per statement here


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def placeholders(count: int) -> str:
    """``%s, %s, …`` for an IN list of ``count`` parameters."""
    return ", ".join(["%s"] * count)


def date_column(expression: str) -> str:
    """A date column as the driver should return it: SQLite's text (Django's per-row date converter is the
    slow part of reading 300,000 rows), PostgreSQL's date."""
    return f"CAST({expression} AS TEXT)" if connection.vendor == "sqlite" else expression
