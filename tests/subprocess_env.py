"""Run the real ``smartoa`` command (or server) in a subprocess against the test database."""

from __future__ import annotations

import os
import subprocess
import sys

from django.db import connection


def database_url() -> str:
    """A DATABASE_URL for the test database the current test uses (committed data only)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTOA_")}
    env.update(DATABASE_URL=database_url(), SMARTOA_ENV="test", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def smartoa(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``smartoa ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "smartoa.cli", *args],
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
