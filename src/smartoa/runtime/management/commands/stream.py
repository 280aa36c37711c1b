"""``smartoa stream``: the event stream process (``GET /api/v1/events``, server-sent events), one asynchronous
process (Starlette on uvicorn) that holds thousands of open connections, beside ``smartoa serve`` (whose
synchronous workers cannot). The reverse proxy routes ``/api/v1/events`` to it (docs/operations.md)."""

import os
import resource

from django.conf import settings
from django.db import connections

from smartoa.core.database import not_ready
from smartoa.core.management.base import Command as SmartOACommand
from smartoa.domain.errors import Conflict, InvalidInput, gettext_noop


def raise_open_files_limit() -> int:
    """Allow as many open files as the system lets this process have (each stream is a socket); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def _available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


class Command(SmartOACommand):
    help = "Run the event stream server (GET /api/v1/events, server-sent events) beside 'smartoa serve'."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument(
            "--max-connections",
            type=int,
            default=settings.SMARTOA_STREAM_MAX_CONNECTIONS,
            help="open connections accepted at once; more are answered 503 (SMARTOA_STREAM_MAX_CONNECTIONS)",
        )
        parser.add_argument("--backlog", type=int, default=4096, help="connections waiting to be accepted")
        parser.add_argument("--access-log", action="store_true", help="log each request (uvicorn's access log)")
        parser.add_argument(
            "--nice",
            type=int,
            default=5,
            help="lower the process's CPU priority by this much (0 to 19, default 5): on a machine shared with the "
            "web processes, a fan-out to thousands of streams leaves the API's answers first (bench/stream)",
        )

    def handle(self, *args, host, port, max_connections, backlog, access_log, nice, **options):
        if not 0 < port < 65536:
            raise InvalidInput(gettext_noop("--port %(port)s is not a TCP port"), port=port)
        if max_connections < 1 or backlog < 1:
            raise InvalidInput(gettext_noop("--max-connections and --backlog must be at least 1"))
        if not 0 <= nice <= 19:
            raise InvalidInput(gettext_noop("--nice must be between 0 and 19"))
        if problem := not_ready():
            raise Conflict(gettext_noop("refusing to serve: %(problem)s"), problem=problem)
        import uvicorn

        from smartoa.stream.app import build_app

        raise_open_files_limit()
        if nice:
            os.nice(nice)
        connections.close_all()  # the stream's threads open their own
        uvicorn.run(
            build_app(),
            host=host,
            port=port,
            loop="uvloop" if _available("uvloop") else "asyncio",
            http="httptools" if _available("httptools") else "h11",
            lifespan="on",
            limit_concurrency=max_connections,
            backlog=backlog,
            timeout_graceful_shutdown=3,
            proxy_headers=False,  # the caller's address is read as the API reads it (SMARTOA_TRUSTED_PROXIES)
            server_header=False,
            access_log=access_log,
            log_level="info" if access_log else "warning",
        )
