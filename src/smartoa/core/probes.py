"""The operations edge of the web processes (WSGI, in front of the hot path and Django): ``/healthz``,
``/readyz`` and ``/metrics`` answered here, before Django's middleware (no session, no CSRF, no login: a sick
Django still says so), and every other request counted and timed for the metrics (and logged as one line when
the ``smartoa.request`` logger is at INFO, as with SMARTOA_LOG_FORMAT=json).

- ``/healthz``: the process answers (200, no database).
- ``/readyz``: database, cache, task queue and migrations (``core/health.py``) within SMARTOA_READY_TIMEOUT
  seconds of database time: 200 ``{"status": "ok", "checks": {...}}`` or 503 naming the failing check.
- ``/metrics``: Prometheus text (``core/metrics.py``) for the addresses of SMARTOA_METRICS_ALLOWED (loopback by
  default; the caller's address as the API reads it, through SMARTOA_TRUSTED_PROXIES), 404 for anyone else.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.urls import Resolver404, resolve

from smartoa.api.errors import error_body
from smartoa.api.hotpath import PATH as HOT_PATH
from smartoa.contracts.ips import InvalidAddress, client_ip, parse_ip

ROUTE_KEY = "smartoa.route"  # set in the environ by RouteLabelMiddleware: the Django route template
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
request_log = logging.getLogger("smartoa.request")

_JSON = [("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]


def metrics_allowed(remote_addr: str, forwarded_for: str | None) -> bool:
    """Whether the caller (its address as the API reads it) is in SMARTOA_METRICS_ALLOWED."""
    try:
        ip = parse_ip(client_ip(remote_addr, forwarded_for, settings.SMARTOA_TRUSTED_PROXIES))
    except InvalidAddress:
        return False
    return any(ip in network for network in settings.SMARTOA_METRICS_ALLOWED if ip.version == network.version)


def healthz() -> tuple[int, list, bytes]:
    return 200, _JSON, b'{"status": "ok"}'


def readyz() -> tuple[int, list, bytes]:
    from smartoa.core.dbguard import watchdog
    from smartoa.core.health import readiness

    entry = watchdog.arm(settings.SMARTOA_READY_TIMEOUT)
    try:
        ready, checks = readiness()
    finally:
        watchdog.disarm(entry)
    body = json.dumps({"status": "ok" if ready else "unavailable", "checks": checks}).encode()
    return (200, _JSON, body) if ready else (503, [*_JSON, ("Retry-After", "5")], body)


def metrics(environ) -> tuple[int, list, bytes]:
    from smartoa.core.dbguard import watchdog
    from smartoa.core.metrics import CONTENT_TYPE, exposition, platform_collector

    if not metrics_allowed(environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR")):
        return 404, _JSON, error_body(404, "not_found", "no such path")
    entry = watchdog.arm(settings.SMARTOA_READY_TIMEOUT)
    try:
        body = exposition(platform_collector)
    finally:
        watchdog.disarm(entry)
    return 200, [("Content-Type", CONTENT_TYPE), ("Cache-Control", "no-store")], body


PROBES: dict[str, Callable] = {"/healthz": lambda e: healthz(), "/readyz": lambda e: readyz(), "/metrics": metrics}


def endpoint_of(environ, path: str) -> str:
    """The metrics label of a request: the route template, never the raw path (no unbounded label values)."""
    if path == HOT_PATH:
        return HOT_PATH
    route = environ.get(ROUTE_KEY)
    if route is not None:
        return route
    if path.startswith(settings.STATIC_URL):
        return settings.STATIC_URL + "*"
    return "unmatched"


class OpsEdge:
    """WSGI middleware: answers the probes, counts and times everything else (see the module's docstring)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        probe = PROBES.get(path)
        if probe is not None:
            return self.probe(probe, environ, start_response)
        from smartoa.core.metrics import observe_request

        started = time.perf_counter()
        seen: list[str] = []

        def start_and_note(status, headers, exc_info=None):
            seen.append(status)
            return start_response(status, headers, exc_info)

        status = "500"
        try:
            body = self.app(environ, start_and_note)
            if seen:
                status = seen[-1][:3]
            return body
        finally:
            seconds = time.perf_counter() - started
            method = environ.get("REQUEST_METHOD", "")
            observe_request(endpoint_of(environ, path), method if method in METHODS else "other", status, seconds)
            if request_log.isEnabledFor(logging.INFO):
                request_log.info(
                    "%s %s %s %.1fms",
                    method,
                    path,
                    status,
                    seconds * 1000,
                    extra={
                        "method": method,
                        "path": path,
                        "status": int(status),
                        "duration_ms": round(seconds * 1000, 2),
                    },
                )

    @staticmethod
    def probe(probe, environ, start_response):
        if environ.get("REQUEST_METHOD") not in {"GET", "HEAD"}:
            status, headers, body = (
                405,
                [*_JSON, ("Allow", "GET, HEAD")],
                error_body(405, "method_not_allowed", "only GET is allowed here"),
            )
        else:
            status, headers, body = probe(environ)
        start_response(f"{status} {_PHRASES[status]}", [*headers, ("Content-Length", str(len(body)))])
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]


_PHRASES = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


class RouteLabelMiddleware:
    """Django middleware: puts the matched route's template (``/api/v1/consignes/<str:day>``) in the WSGI environ
    for the metrics of ``OpsEdge``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if ROUTE_KEY not in request.META and not request.path_info.startswith(settings.STATIC_URL):
            # Answered before the view (a redirect to the login page, a refusal): the route it asked for.
            with contextlib.suppress(Resolver404):
                _label(request, resolve(request.path_info))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.resolver_match is not None:
            _label(request, request.resolver_match)


def _label(request, match) -> None:
    request.META[ROUTE_KEY] = "/" + (match.route or "").lstrip("^").rstrip("$")
