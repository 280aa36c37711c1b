"""The stream process's database work, run in its threads (``Store.run``): reading new event records, a contract's
replay, opening a stream (the API's authentication, without noting an API call) and recording the streams opened
and held on their tokens (``last_stream_at``, ``last_stream_ip``, to the minute, in batches)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import Max, Min

from smartoa.api.auth import ApiCaller, LastUseBuffer, authenticate
from smartoa.contracts.models import ApiToken
from smartoa.notifications.eventlog import ACCESS_CHANGED, wire
from smartoa.notifications.models import Event

T = TypeVar("T")
READ_LIMIT = 5000  # event records read at once


@dataclass(frozen=True, slots=True)
class Record:
    """An event record as the stream reads it."""

    id: int
    type: str
    contract_pk: int
    contract_id: str
    day: date | None
    version: int | None
    created_at: datetime
    data: dict

    def payload(self) -> dict[str, Any]:
        """The event's JSON as sent."""
        return wire(self.id, self.type, self.contract_id, self.day, self.version, self.created_at, self.data)


_FIELDS = ("pk", "type", "contract_id", "contract__contract_id", "day", "version", "created_at", "data")


def records_after(last_id: int, limit: int = READ_LIMIT) -> list[Record]:
    """The records after ``last_id``, oldest first, at most ``limit``."""
    rows = Event.objects.filter(pk__gt=last_id).order_by("pk").values_list(*_FIELDS)[:limit]
    return [Record(*row) for row in rows]


def replay(contract_pk: int, after: int, upto: int) -> list[Record]:
    """The contract's public records in (``after``, ``upto``], oldest first."""
    rows = (
        Event.objects.filter(contract_id=contract_pk, pk__gt=after, pk__lte=upto)
        .exclude(type=ACCESS_CHANGED)
        .order_by("pk")
        .values_list(*_FIELDS)
    )
    return [Record(*row) for row in rows]


def latest_id() -> int:
    return Event.objects.aggregate(latest=Max("pk"))["latest"] or 0


@dataclass(frozen=True, slots=True)
class Opening:
    """A stream allowed to open: who calls, until when its token is valid, and whether the events after its
    ``Last-Event-ID`` are still all kept (else ``reset``, ``kept_since``: the oldest kept record's time, or None,
    and ``latest``: the latest record, which the client resumes after once it has read the days again)."""

    caller: ApiCaller
    expires_at: datetime
    reset: bool
    kept_since: datetime | None
    latest: int = 0


def open_stream(authorization: str | None, ip: str, moment: datetime, last_event_id: int | None) -> Opening:
    """Authenticate as every API call is (ApiError 401/403/429), without counting it as an API call, and tell
    whether the client missed records that were purged since ``last_event_id``."""
    caller = authenticate(authorization, ip, moment, note_use=False)
    expires_at = ApiToken.objects.values_list("expires_at", flat=True).get(pk=caller.token_pk)
    reset, kept_since, latest = False, None, 0
    if last_event_id is not None:
        oldest = Event.objects.aggregate(oldest=Min("pk"))["oldest"]
        if oldest is None:  # nothing kept: a client that saw a record may have missed others, since purged
            reset = last_event_id > 0
        else:
            reset = last_event_id < oldest - 1
            if reset:
                kept_since = Event.objects.values_list("created_at", flat=True).get(pk=oldest)
        if reset:
            latest = latest_id()
    return Opening(caller, expires_at, reset, kept_since, latest)


def still_allowed(authorization: str | None, ip: str, moment: datetime) -> str | None:
    """The refusal code of an open stream's credentials now (``revoked_token``, ``ip_not_allowed``…), or None."""
    from smartoa.api.errors import ApiError

    try:
        authenticate(authorization, ip, moment, note_use=False)
    except ApiError as error:
        return error.code
    return None


def stream_uses() -> LastUseBuffer:
    """The buffer of the tokens' stream connections (``last_stream_at``, ``last_stream_ip``, to the minute): noted
    when a stream opens and, for the streams still open, once a minute; written in batches by ``flush``."""
    return LastUseBuffer(("last_stream_at", "last_stream_ip"), keep_ip=True)


class Store:
    """Runs the database functions in a few threads of their own, each with its Django connection (the request's
    id follows); a connection that failed is closed, the next call opens a new one."""

    def __init__(self, threads: int) -> None:
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="stream-db")

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, context.run, _guarded, function, *args)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def _guarded(function: Callable[..., T], *args: Any) -> T:
    try:
        return function(*args)
    except (OperationalError, InterfaceError):
        with contextlib.suppress(DatabaseError):
            connection.close()
        raise
