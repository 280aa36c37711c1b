"""The lean path for ``GET /api/v1/effacement``, polled by every API client.

A WSGI wrapper in front of Django: for that one path it checks the Host header against ALLOWED_HOSTS (as Django
would), authenticates with one SQL statement and returns the stored JSON bytes of the latest version, with its
``ETag`` and ``Last-Modified`` (or ``304 Not Modified`` and no body when the client's ``If-None-Match`` or
``If-Modified-Since`` says it has that version: ``conditional.py``), without Django's request/response machinery
or the ORM. Every other request goes to Django unchanged. Its errors are
those of ``errors.py``: the same bodies, a database outage answered 503 and logged once, a bug answered 500 and
logged with its traceback and the request id.
"""

from __future__ import annotations

import contextlib
import logging
from http import HTTPStatus

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http.request import split_domain_port, validate_host

from smartoa.api.auth import authenticate, caller_ip
from smartoa.api.conditional import not_modified, validators
from smartoa.api.errors import ApiError, database_unavailable, error_body
from smartoa.api.schemas import NOTHING_PUBLISHED_MESSAGE
from smartoa.core import outage
from smartoa.core.clock import now

PATH = "/api/v1/effacement"
log = logging.getLogger("smartoa.api")

_COMMON_HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
]
# A 304 carries the validators and the caching rule of the 200 it stands for, no Content-Type and no body.
_NOT_MODIFIED_HEADERS = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]  # Django's own default when DEBUG and no ALLOWED_HOSTS

NOTHING_PUBLISHED = ApiError(404, "not_found", NOTHING_PUBLISHED_MESSAGE)
BAD_HOST = ApiError(400, "bad_request", "the Host header names a host this server does not serve")


class HostCheck:
    """Whether a request's Host (or SERVER_NAME:SERVER_PORT) is one of ALLOWED_HOSTS, as Django checks it. The
    answers for the few Host values clients send are remembered (a lookup instead of 4 µs of parsing per call)
    while ALLOWED_HOSTS stays the same list."""

    MAX_REMEMBERED = 256

    def __init__(self):
        self.allowed_hosts: list[str] | None = None
        self.debug: bool | None = None
        self.known: dict[str, bool] = {}

    def __call__(self, environ) -> bool:
        host = environ.get("HTTP_HOST")
        if not host:
            host, port = environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", "")
            if port and port != ("443" if environ.get("wsgi.url_scheme") == "https" else "80"):
                host = f"{host}:{port}"
        if settings.ALLOWED_HOSTS is not self.allowed_hosts or settings.DEBUG is not self.debug:  # tests change them
            self.allowed_hosts, self.debug, self.known = settings.ALLOWED_HOSTS, settings.DEBUG, {}
        known = self.known.get(host)
        if known is None:
            domain, _ = split_domain_port(host)
            allowed = settings.ALLOWED_HOSTS or (DEBUG_HOSTS if settings.DEBUG else [])
            known = bool(domain) and validate_host(domain, allowed)
            if len(self.known) < self.MAX_REMEMBERED:  # a flood of made-up hosts is checked, not remembered
                self.known[host] = known
        return known


host_allowed = HostCheck()


def _refusal(error: ApiError) -> tuple[int, list[tuple[str, str]], bytes]:
    return (
        error.status,
        _COMMON_HEADERS + list(error.headers.items()),
        error_body(error.status, error.code, error.message),
    )


def effacement_response(environ) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body answering ``GET /api/v1/effacement`` for this WSGI environ."""
    if not host_allowed(environ):
        return _refusal(BAD_HOST)
    try:
        ip = caller_ip(environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR"))
        caller = authenticate(environ.get("HTTP_AUTHORIZATION"), ip, now())
    except ApiError as error:
        return _refusal(error)
    except (OperationalError, InterfaceError) as exc:  # unreachable, or cut by the time budget (core/dbguard.py)
        _discard_connection()
        return _refusal(database_unavailable(exc))
    except Exception:  # a bug: the WSGI edge still answers JSON, and the log has the traceback
        log.exception("server error on %s", PATH)
        _discard_connection()
        return _refusal(ApiError(500, "server_error", "internal error; it has been logged (quote the request id)"))
    outage.database.succeeded()
    document, version = caller.latest_document, caller.latest_version
    if document is None or version is None:  # both or neither
        return _refusal(NOTHING_PUBLISHED)
    served = validators(version, document)
    if_none_match, if_modified_since = environ.get("HTTP_IF_NONE_MATCH"), environ.get("HTTP_IF_MODIFIED_SINCE")
    if (if_none_match is not None or if_modified_since) and not_modified(
        if_none_match, if_modified_since, served, now()
    ):
        return 304, [*_NOT_MODIFIED_HEADERS, *served.headers], b""
    return 200, [*_COMMON_HEADERS, *served.headers], document.encode()


def _discard_connection() -> None:
    """Drop the thread's connection after a failure: the next request opens a new one. (Never inside a
    transaction, which only the tests open around the hot path.)"""
    if connection.in_atomic_block:
        return
    with contextlib.suppress(DatabaseError):  # already broken: closing it can only say so
        connection.close()


class EffacementHotPath:
    """WSGI middleware answering the hot path itself and passing everything else to ``app``."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        status, headers, body = effacement_response(environ)
        if status != 304:  # a 304's Content-Length would have to be the 200's (RFC 9110 §8.6): none is simpler
            headers = [*headers, ("Content-Length", str(len(body)))]
        start_response(_STATUS_LINES[status], headers)
        return [body]
