"""The lean path for ``GET /api/v1/effacement``, polled by every API client.

A WSGI wrapper in front of Django: for that one path it authenticates with one SQL statement and returns the
stored JSON bytes of the latest version, without Django's request/response machinery or the ORM. Every other
request goes to Django unchanged.
"""

from __future__ import annotations

import json
import logging

from django.db import connection
from django.db.utils import DatabaseError

from smartoa.api.auth import ApiError, authenticate, caller_ip
from smartoa.core.clock import now

PATH = "/api/v1/effacement"
log = logging.getLogger("smartoa.api")

_COMMON_HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
]
_REASONS = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 503: "Service Unavailable"}

NOTHING_PUBLISHED = ApiError(404, "not_found", "no consigne has been published for this contract yet")


def error_body(error: ApiError) -> bytes:
    return json.dumps({"error": error.code, "message": error.message}, ensure_ascii=False).encode()


def effacement_response(environ) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body answering ``GET /api/v1/effacement`` for this WSGI environ."""
    try:
        ip = caller_ip(environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR"))
        caller = authenticate(environ.get("HTTP_AUTHORIZATION"), ip, now())
        if caller.latest_document is None:
            raise NOTHING_PUBLISHED
        return 200, _COMMON_HEADERS, caller.latest_document.encode()
    except ApiError as error:
        return error.status, _COMMON_HEADERS + list(error.headers.items()), error_body(error)
    except DatabaseError:
        log.exception("database error on the hot path")
        connection.close()  # a broken connection is reopened by the next request
        unavailable = ApiError(503, "unavailable", "the service is temporarily unavailable, retry shortly")
        return 503, _COMMON_HEADERS + [("Retry-After", "5")], error_body(unavailable)


class EffacementHotPath:
    """WSGI middleware answering the hot path itself and passing everything else to ``app``."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        status, headers, body = effacement_response(environ)
        start_response(f"{status} {_REASONS[status]}", [*headers, ("Content-Length", str(len(body)))])
        return [body]
