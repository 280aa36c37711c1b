"""The request id: one per web request, in every log line written while it is served, in the response's
``X-Request-ID`` header and in the body of a server error, so that a user's report leads to the log lines.

``RequestIdWsgi`` gives the id at the WSGI edge (before the hot path and Django); ``RequestIdMiddleware`` keeps it
for Django (and gives one when Django is called without that edge, as by its test client).
"""

from __future__ import annotations

import json
import logging
import os
from contextvars import ContextVar, Token
from datetime import UTC, datetime

HEADER = "X-Request-ID"
ENVIRON_KEY = "smartoa.request_id"

_current: ContextVar[str | None] = ContextVar("smartoa_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served by this thread, if any."""
    return _current.get()


def bind_request_id(request_id: str) -> Token:
    """Make ``request_id`` the current request's (an asynchronous server's request, in its task); give the token
    back to ``_current.reset`` through ``unbind_request_id``."""
    return _current.set(request_id)


def unbind_request_id(token: Token) -> None:
    _current.reset(token)


def new_request_id() -> str:
    """32 random hex digits (as a uuid4's, at a fifth of its cost: this runs on every request)."""
    return os.urandom(16).hex()


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) to every record its handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or "-"
        return True


_REQUEST_FIELDS = ("method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per line (SMARTOA_LOG_FORMAT=json): time (UTC, ISO 8601), level, logger, message,
    request_id, the request's method/path/status/duration_ms on request lines, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _current.get() or "-",
        }
        for field in _REQUEST_FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class RequestIdWsgi:
    """WSGI middleware: a fresh id per request, set for the request's logs and added to its response headers."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        request_id = environ[ENVIRON_KEY] = new_request_id()
        token = _current.set(request_id)

        def start_with_id(status, headers, exc_info=None):
            return start_response(status, [*headers, (HEADER, request_id)], exc_info)

        try:
            return self.app(environ, start_with_id)
        finally:
            _current.reset(token)


class RequestIdMiddleware:
    """Django middleware: the id given by ``RequestIdWsgi`` on ``request.request_id``; without that edge (Django's
    test client, another server), a new one, also in the response's ``X-Request-ID``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.META.get(ENVIRON_KEY)
        token = None
        if request_id is None or _current.get() != request_id:
            request_id = request_id or new_request_id()
            token = _current.set(request_id)
        request.request_id = request_id
        try:
            response = self.get_response(request)
        finally:
            if token is not None:
                _current.reset(token)
        if ENVIRON_KEY not in request.META:  # else RequestIdWsgi adds the header
            response[HEADER] = request_id
        return response
