"""Counting what code asks of the database: statements executed and rows fetched, at the driver's cursor, so that
raw SQL, the ORM and psycopg's binary cursors are all seen."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from django.db import connection
from django.db.backends.sqlite3.base import SQLiteCursorWrapper


@dataclass
class Probe:
    statements: list[str] = field(default_factory=list)
    rows: int = 0

    @property
    def queries(self) -> int:
        return len(self.statements)


@contextmanager
def probe():
    """Count the statements executed and the rows fetched inside the block (on the current backend)."""
    found = Probe()
    cls = psycopg.Cursor if connection.vendor == "postgresql" else SQLiteCursorWrapper
    names = ("execute", "fetchone", "fetchmany", "fetchall", "__iter__")
    saved = {name: cls.__dict__.get(name) for name in names}  # what to restore (None: inherited)
    original = {name: getattr(cls, name, None) for name in names}  # what to call

    def execute(self, query, *args, **kwargs):
        found.statements.append(str(query))
        return original["execute"](self, query, *args, **kwargs)

    def fetchone(self):
        row = original["fetchone"](self)
        found.rows += row is not None
        return row

    def fetchmany(self, *args, **kwargs):
        rows = original["fetchmany"](self, *args, **kwargs)
        found.rows += len(rows)
        return rows

    def fetchall(self):
        rows = original["fetchall"](self)
        found.rows += len(rows)
        return rows

    def iterate(self):
        for row in original["__iter__"](self):
            found.rows += 1
            yield row

    cls.execute, cls.fetchone, cls.fetchmany, cls.fetchall = execute, fetchone, fetchmany, fetchall
    if saved["__iter__"] is not None:  # psycopg; Django reads SQLite through fetchmany/fetchone
        cls.__iter__ = iterate
    try:
        yield found
    finally:
        for name, value in saved.items():
            if value is None:
                if name in cls.__dict__:
                    delattr(cls, name)
            else:
                setattr(cls, name, value)
