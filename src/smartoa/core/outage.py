"""Logging an outage of something the platform depends on (the database, the shared cache) once, not per request.

During an outage every request fails the same way; a traceback per request buried the logs (94 MB in 20 s).
An ``Outage`` logs the first failure with its traceback, then a count every ``summary_every`` seconds while the
failures go on, and one line when a success shows it is over. Per process; thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("smartoa.outage")


class Outage:
    def __init__(self, what: str, *, summary_every: float = 60.0, logger: logging.Logger = log):
        self.what = what
        self.summary_every = summary_every
        self.log = logger
        self.lock = threading.Lock()
        self.since: float | None = None  # monotonic time of the first failure; None when all is well
        self.failures = 0  # since the outage began
        self.reported = 0  # failures already counted in a summary
        self.last_report = 0.0

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        """Note one failed request: the first is logged with its traceback, the next ones in periodic counts."""
        moment = time.monotonic()
        with self.lock:
            self.failures += 1
            first = self.since is None
            if first:
                self.since = self.last_report = moment
                self.reported = 1
            elif moment - self.last_report >= self.summary_every:
                new, self.reported, self.last_report = self.failures - self.reported, self.failures, moment
                elapsed = moment - (self.since or moment)
            else:
                return
        if first:
            self.log.error(
                "%s unavailable: %s (further failures are counted, not logged one by one)",
                self.what,
                _first_line(exc),
                exc_info=exc,
            )
        else:
            self.log.error(
                "%s still unavailable after %.0f s: %d more failed requests (%d in all); last error: %s",
                self.what,
                elapsed,
                new,
                self.failures,
                _first_line(exc),
            )

    def succeeded(self) -> None:
        """Note a success: ends an ongoing outage with one line. Costs one attribute read when all is well."""
        if self.since is None:
            return
        with self.lock:
            if self.since is None:
                return
            elapsed, failures = time.monotonic() - self.since, self.failures
            self.since, self.failures, self.reported = None, 0, 0
        self.log.warning("%s available again after %.0f s; %d requests failed meanwhile", self.what, elapsed, failures)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


database = Outage("database")
cache = Outage("shared cache")


class DatabaseOutageFilter(logging.Filter):
    """Drops django.request's record of a page that failed because the database did (answered 503 by
    ``web/views/errors.py``, which reports it to ``database`` above: once, then counts)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from django.db import InterfaceError, OperationalError

        failure = record.exc_info[1] if record.exc_info else None
        return not isinstance(failure, OperationalError | InterfaceError)
