"""The task engine: the platform's one Huey instance and the decorators that register jobs on it.

``SMARTOA_JOBS_URL`` chooses where the queue lives: empty, a SQLite file in the data folder (the embedded default);
``sqlite:///FILE``; ``redis://…`` (Redis); ``postgres://…`` (PostgreSQL: several machines share one queue; Huey's
own psycopg 3 storage, with LISTEN/NOTIFY). Nothing is opened at import: the SQLite file (and its folder) or the
PostgreSQL tables are created at first use.

Features declare their jobs in their ``jobs.py`` with ``task`` (queued work) and ``scheduled`` (periodic work, listed
in ``SCHEDULED`` for the control screen, each run recorded by ``jobs/runs.py``). The consumer (``smartoa worker``)
runs both. Tests switch ``huey.immediate`` on: a queued task then runs at once, in the caller's thread.

Every worker's scheduler queues every periodic job; each scheduled run (and each ``catch_up`` run) carries its slot,
the period's start in real UTC time, and claims it with a ``JobRun`` row unique per (name, slot): the second worker's
run of the same slot finds it claimed and is skipped, so a periodic job runs once per slot across all workers.
Direct calls (``call_local``, immediate mode) carry no slot and always run.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise
from django.db import close_old_connections
from huey import Huey, crontab
from huey.storage import PostgresStorage, RedisStorage, SqliteStorage

NAME = "smartoa"
logger = logging.getLogger(__name__)


class SlottedHuey(Huey):
    """Huey whose scheduler gives each periodic run of a ``scheduled`` job its slot (``slot_of``), from the
    scheduler's own (real, UTC) time."""

    def read_periodic(self, timestamp):
        if timestamp is None:
            timestamp = self._get_timestamp()
        tasks = super().read_periodic(timestamp)
        for periodic in tasks:
            job = _BY_TASK_NAME.get(periodic.name)
            if job is not None:
                periodic.kwargs = {"slot": slot_of(job.every, timestamp)}
        return tasks


class LazySqliteStorage(SqliteStorage):
    """Huey's SQLite storage, creating its folder and tables at the first connection instead of at import."""

    def __init__(self, *args, **kwargs):
        kwargs["create_tables"] = False
        super().__init__(*args, **kwargs)

    def _create_connection(self):
        Path(self.filename).parent.mkdir(parents=True, exist_ok=True)
        conn = super()._create_connection()
        for statement in self.ddl:
            conn.execute(statement)
        return conn


class LazyPostgresStorage(PostgresStorage):
    """Huey's PostgreSQL storage, creating its tables at the first connection instead of at import."""

    _schema_ready = False

    def __init__(self, *args, **kwargs):
        kwargs["create_tables"] = False
        super().__init__(*args, **kwargs)

    def _connect(self):
        conn = super()._connect()
        if not self._schema_ready:
            import psycopg

            for statement in self.ddl:
                # Another process may be creating the same table at the same moment: it exists then.
                with contextlib.suppress(psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
                    conn.execute(statement)
            self._schema_ready = True
        return conn

    _create_connection = _connect


def build(url: str, data_dir: Path) -> Huey:
    """The Huey instance for ``url`` (see the module's docstring)."""
    options: dict[str, Any] = {"results": False, "utc": True}
    if not url or url.startswith("sqlite:///"):
        filename = url.removeprefix("sqlite:///") or str(data_dir / "jobs.sqlite3")
        return SlottedHuey(NAME, storage_class=LazySqliteStorage, filename=filename, timeout=20, **options)
    if url.startswith(("redis://", "rediss://")):
        return SlottedHuey(NAME, storage_class=RedisStorage, url=url, **options)
    if url.startswith(("postgres://", "postgresql://")):
        return SlottedHuey(NAME, storage_class=LazyPostgresStorage, dsn=url, **options)
    raise ValueError(f"unsupported SMARTOA_JOBS_URL {url!r}")


huey = build(settings.SMARTOA_JOBS_URL, settings.DATA_DIR)

# Set by ``smartoa worker`` when it is asked to stop: long jobs check it between batches and return early.
stopping = threading.Event()


@dataclass(frozen=True)
class Scheduled:
    """A periodic job as the control screen lists it."""

    name: str
    label: StrOrPromise  # in French (translated when shown), the operators' words
    every: timedelta


SCHEDULED: dict[str, Scheduled] = {}
_PERIODIC: dict[str, Any] = {}  # name → its Huey task
_BY_TASK_NAME: dict[str, Scheduled] = {}  # Huey's task name → the job


def slot_of(every: timedelta, moment: datetime | None = None) -> datetime:
    """The start of the period of length ``every`` holding ``moment`` (naive means UTC; default: the real time now,
    not the controllable clock, as Huey's scheduler runs on real time), counted from the Unix epoch in UTC."""
    if moment is None:
        moment = datetime.now(UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(moment.timestamp())
    step = int(every.total_seconds())
    return datetime.fromtimestamp(seconds - seconds % step, UTC)


def catch_up() -> list[str]:
    """Queue one run of every periodic job that the scheduler would not start at once (those of more than a
    minute): a worker that starts (after a stop, a deployment) does not wait up to a day for them. Each run claims
    the current slot, so a job another worker already ran in this slot is not run again. Returns their names."""
    names = [name for name, job in SCHEDULED.items() if job.every > timedelta(minutes=1)]
    for name in names:
        _PERIODIC[name](slot=slot_of(SCHEDULED[name].every))
    return names


def _fresh_connections(func: Callable) -> Callable:
    """Run ``func`` with the database connections a worker thread should use: stale ones closed before and after
    (a consumer lives for weeks). Not in immediate mode, where the caller's connection is the one to use."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        if huey.immediate:
            return func(*args, **kwargs)
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return run


QUEUED: dict[str, Any] = {}  # the queued tasks by name, for queue_task()


def task(name: str | None = None, **options) -> Callable[[Callable], Any]:
    """Register ``func`` as queued work: calling the returned wrapper queues a run for the worker (at once in
    immediate mode); ``.call_local(...)`` runs it in the caller. With a ``name``, a service queues it by that name
    (``queue_task``) without importing the feature's ``jobs.py``, which imports the service. ``options`` are Huey's
    (retries, …)."""

    def register(func: Callable) -> Any:
        queued = huey.task(**options)(_fresh_connections(func))
        if name is not None:
            if name in QUEUED:
                raise ValueError(f"two queued tasks are named {name!r}")
            QUEUED[name] = queued
        return queued

    return register


def queue_task(name: str, *args: Any) -> None:
    """Queue a run of the task registered as ``name`` (every feature's ``jobs.py`` is imported when the apps are
    ready, ``jobs/apps.py``): how a service hands work to the worker."""
    QUEUED[name](*args)


def _crontab(every: timedelta):
    minutes = int(every.total_seconds() // 60)
    if minutes < 1 or every.total_seconds() % 60:
        raise ValueError("a periodic job runs every whole number of minutes")
    if minutes < 60 and 60 % minutes == 0:
        return crontab(minute=f"*/{minutes}")
    if minutes % 60 == 0 and minutes < 24 * 60 and (24 * 60) % minutes == 0:
        return crontab(minute="0", hour=f"*/{minutes // 60}")
    if minutes == 24 * 60:
        return crontab(minute="17", hour="2")  # once a day, at a quiet time (UTC)
    raise ValueError(f"cannot run a job every {every}: use a divisor of an hour, of a day, or a day")


def scheduled(name: str, *, label: StrOrPromise, every: timedelta) -> Callable[[Callable], Any]:
    """Register ``func`` as a periodic job named ``name``, run every ``every`` by the worker's scheduler; each run
    is recorded (``jobs/runs.py``) and ``func`` receives the run's counts dict to fill. A run given a ``slot`` (the
    scheduler's, ``catch_up``'s) first claims it and is skipped if another run has; one without always runs."""
    from smartoa.jobs.runs import claim, recorded

    if name in SCHEDULED:
        raise ValueError(f"two periodic jobs are named {name!r}")
    SCHEDULED[name] = Scheduled(name, label, every)
    task_name = name.replace(".", "_")
    _BY_TASK_NAME[task_name] = SCHEDULED[name]

    def register(func: Callable) -> Any:
        @functools.wraps(func)
        def run(slot: datetime | None = None) -> None:
            claimed = None
            if slot is not None:
                claimed = claim(name, slot)
                if claimed is None:
                    logger.debug("%s: the slot %s is already claimed, skipped", name, slot.isoformat())
                    return
            with recorded(name, run=claimed) as counts:
                func(counts)

        periodic = huey.periodic_task(_crontab(every), name=task_name)(_fresh_connections(run))
        _PERIODIC[name] = periodic
        return periodic

    return register
