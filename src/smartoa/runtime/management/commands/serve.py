"""``smartoa serve``: portal + API on a production WSGI server (gunicorn), or Django's autoreloader (--dev)."""

from django.conf import settings
from django.core.management import call_command
from django.db import connections

from smartoa.core.database import not_ready
from smartoa.core.management.base import Command as SmartOACommand
from smartoa.domain.errors import Conflict, InvalidInput, gettext_noop


class Command(SmartOACommand):
    help = "Run the portal and the API (gunicorn, several workers; --dev for Django's autoreloading server)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=settings.SMARTOA_WORKERS)
        parser.add_argument("--threads", type=int, default=settings.SMARTOA_THREADS, help="threads per worker")
        parser.add_argument("--dev", action="store_true", help="development server with autoreload")
        parser.add_argument("--access-log", default=None, help="file for the access log ('-' for stdout)")

    def handle(self, *args, host, port, workers, threads, dev, access_log, **options):
        if not 0 < port < 65536:
            raise InvalidInput(gettext_noop("--port %(port)s is not a TCP port"), port=port)
        if workers < 1 or threads < 1:
            raise InvalidInput(gettext_noop("--workers and --threads must be at least 1"))
        if problem := not_ready():
            raise Conflict(gettext_noop("refusing to serve: %(problem)s"), problem=problem)
        if dev:
            if settings.PRODUCTION:
                raise Conflict(gettext_noop("--dev is refused in production"))
            call_command("runserver", f"{host}:{port}")
            return
        from smartoa.core.metrics import use_multiprocess
        from smartoa.runtime.server import run

        call_command("collectstatic", interactive=False, verbosity=0)

        connections.close_all()  # never share a database connection with forked workers
        use_multiprocess(settings.DATA_DIR, "web")  # each worker's counters in a file, summed by /metrics
        run(host=host, port=port, workers=workers, threads=threads, access_log=access_log)
