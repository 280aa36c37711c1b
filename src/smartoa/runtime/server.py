"""The production WSGI server: gunicorn with the application of ``smartoa.wsgi``."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

# The request's path without its query string (%(U)s, not the request line %(r)s): a token sent by mistake as
# ``?token=…`` must never reach a log. The request id is the one in the response and in the application's logs.
ACCESS_LOG_FORMAT = '%(h)s pid=%(p)s id=%({x-request-id}o)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


class SmartOAServer(BaseApplication):
    def __init__(self, options: dict, app: str = "smartoa.wsgi:application"):
        self.options, self.app = options, app
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from gunicorn.util import import_app

        return import_app(self.app)


def _worker_gone(server, worker):
    """In the master, when a worker ended (even killed): prometheus_client's cleanup of its files."""
    from smartoa.core.metrics import process_exited

    process_exited(worker.pid)


def _flush_on_exit(server, worker):
    from smartoa.api.auth import flush_last_use
    from smartoa.api.refusals import flush_tally

    try:
        flush_last_use()
    except Exception:
        server.log.exception("could not write the tokens' last use on exit")
    flush_tally()  # reports (and audits, if it can) the refused calls counted since the last report


def run(
    *,
    host: str,
    port: int,
    workers: int,
    threads: int = 4,
    access_log: str | None = None,
    app: str = "smartoa.wsgi:application",
) -> None:
    """Serve ``app`` until stopped (SIGTERM/SIGINT). Blocks. The benchmarks serve their baseline the same way."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads + keep-alive: measured 1.6x the sync worker on the hot path (bench/api_load).
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": True,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": access_log,
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "smartoa",
        "worker_exit": _flush_on_exit,
        "child_exit": _worker_gone,
    }
    SmartOAServer(options, app).run()
