"""Readiness checks for load balancers (``/readyz``): the database, the cache and the task queue answer, and
every migration is applied. Each check returns None when fine, else a short reason (never a secret)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections

log = logging.getLogger("smartoa.health")


def _reason(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def database() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def cache() -> None:
    from django.core.cache import caches

    caches["default"].get("smartoa:readyz")  # the database table or Redis (SMARTOA_CACHE_URL)


def queue() -> None:
    from smartoa.jobs.engine import huey

    huey.storage.queue_size()  # the SQLite file, Redis or PostgreSQL (SMARTOA_JOBS_URL)


class MigrationsApplied:
    """No unapplied migration. Computed (the migration graph read, ~0.1 s) until it is true once, then remembered
    for the life of the process: a process started on an up-to-date database stays so."""

    def __init__(self) -> None:
        self.applied = False

    def __call__(self) -> str | None:
        if self.applied:
            return None
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return f"{len(plan)} migration(s) not applied (run `smartoa migrate`)"
        self.applied = True
        return None


migrations = MigrationsApplied()

CHECKS: dict[str, Callable[[], str | None]] = {
    "database": database,
    "cache": cache,
    "queue": queue,
    "migrations": migrations,
}


def readiness() -> tuple[bool, dict[str, str]]:
    """Run every check (the migrations one only when the database answered): (all fine, name → "ok" or the
    reason it failed). A failure is logged at WARNING."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        if name == "migrations" and results.get("database") != "ok":
            results[name] = "not checked: the database is unreachable"
            continue
        try:
            problem = check()
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency makes the process not ready
            problem = _reason(exc)
            if name == "database":
                _discard()
        results[name] = problem or "ok"
    ready = all(value == "ok" for value in results.values())
    if not ready:
        log.warning("not ready: %s", ", ".join(f"{k}: {v}" for k, v in results.items() if v != "ok"))
    return ready, results


def _discard() -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block:
        return
    with contextlib.suppress(Exception):  # already broken: closing it can only say so
        connection.close()
