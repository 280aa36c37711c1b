"""The production WSGI server: gunicorn with the application of ``smartoa.wsgi``."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

ACCESS_LOG_FORMAT = '%(h)s pid=%(p)s "%(r)s" %(s)s %(b)s %(M)sms'


class SmartOAServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from smartoa.wsgi import application

        return application


def run(*, host: str, port: int, workers: int, access_log: str | None = None) -> None:
    """Serve until stopped (SIGTERM/SIGINT). Blocks."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "preload_app": True,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": access_log,
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "smartoa",
    }
    SmartOAServer(options).run()
