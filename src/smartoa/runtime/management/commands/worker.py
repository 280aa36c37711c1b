"""``smartoa worker``: the task engine's consumer (Huey), in threads: queued work (deliveries right after a
change) and the periodic jobs (outbox delivery, acknowledgment reminders, operators' warnings, token-expiry
warnings, purges), each run once at start. SIGTERM or SIGINT stop it cleanly: the running jobs finish (at most
--shutdown-timeout seconds; a second signal stops at once), and the messages it had claimed are taken by the next
worker after their lease. It runs at a lower CPU priority (--nice) so that, on a machine it shares with the web
processes, API calls are answered first."""

import os
import signal

from django.conf import settings
from django.db import connections

from smartoa.core.database import not_ready
from smartoa.core.management.base import Command as SmartOACommand
from smartoa.domain.errors import Conflict, InvalidInput, gettext_noop


class Command(SmartOACommand):
    help = "Run the task engine: queued deliveries and the periodic jobs (reminders, warnings, outbox)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2, help="worker threads (default 2)")
        parser.add_argument(
            "--shutdown-timeout", type=float, default=30.0, help="seconds the running jobs get to finish on SIGTERM"
        )
        parser.add_argument(
            "--nice",
            type=int,
            default=10,
            help="lower the worker's CPU priority by this much (0 to 19, default 10): on a machine shared with the "
            "web processes, the API's answers come first and the deliveries use the CPU they leave",
        )

    def handle(self, *args, workers, shutdown_timeout, nice, **options):
        if not 1 <= workers <= 64:
            raise InvalidInput(gettext_noop("--workers must be between 1 and 64"))
        if shutdown_timeout < 0:
            raise InvalidInput(gettext_noop("--shutdown-timeout must not be negative"))
        if not 0 <= nice <= 19:
            raise InvalidInput(gettext_noop("--nice must be between 0 and 19"))
        if problem := not_ready():
            raise Conflict(gettext_noop("refusing to start: %(problem)s"), problem=problem)
        from smartoa.core.metrics import use_multiprocess
        from smartoa.jobs.engine import catch_up, huey, stopping

        use_multiprocess(settings.DATA_DIR, "worker")  # its deliveries are summed by /metrics of the web processes
        huey.immediate = False
        consumer = huey.create_consumer(
            workers=workers,
            worker_type="thread",
            periodic=True,
            graceful_signal="TERM",
            shutdown_timeout=shutdown_timeout,
        )
        # SIGINT too stops gracefully (Huey's default interrupts the running jobs at once).
        consumer._signal_actions[signal.SIGINT] = (False, True)
        consumer.stop_flag = _StopFlag(consumer.stop_flag, stopping)
        catch_up()  # the jobs of every minute start with the scheduler; the others are run once now
        connections.close_all()  # each worker thread opens its own
        if nice:
            os.nice(nice)
        self.stderr.write(f"smartoa worker: {workers} thread(s), queue {type(huey.storage).__name__}")
        consumer.run()
        self.stderr.write("smartoa worker: stopped")


class _StopFlag:
    """The consumer's stop flag, also setting the jobs' ``stopping`` event so that long runs return early."""

    def __init__(self, flag, event):
        self._flag, self._event = flag, event

    def set(self):
        self._event.set()
        self._flag.set()

    def is_set(self):
        return self._flag.is_set()

    def wait(self, timeout=None):
        return self._flag.wait(timeout)
