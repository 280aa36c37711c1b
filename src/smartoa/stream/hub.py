"""The fan-out: one reader of the event table per process, dispatching each new record to the open streams of its
contract (each stream has its queue), a heartbeat for every stream (and, once a minute, every open stream's token
noted as connected: ``last_stream_at``), and the checks of a contract's open streams
when its API access changed (``access.changed``: a token revoked, an address removed), closing those refused.

The reader wakes every SMARTOA_STREAM_POLL_SECONDS (SQLite), or when PostgreSQL notifies a commit
(``listen.py``; then it still reads every ``PG_FALLBACK_SECONDS``, and every poll interval while the LISTEN
connection is down). Records are read in id order; a writer lock makes ids commit in order (``eventlog.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection

from smartoa.core.clock import now
from smartoa.notifications.eventlog import ACCESS_CHANGED
from smartoa.stream import store
from smartoa.stream.store import Record, Store, stream_uses

log = logging.getLogger("smartoa.stream")

PG_FALLBACK_SECONDS = 10.0  # reads while LISTEN is up, in case a notification was lost
MAX_QUEUED = 1000  # chunks waiting for a stream that does not read: it is closed (it resumes from its last id)
HEARTBEAT = b": heartbeat\n\n"


def event_chunk(record_id: int, kind: str, payload: dict) -> bytes:
    """One server-sent event: ``id``, ``event`` and the JSON ``data`` on one line, then a blank line."""
    data = json.dumps(payload, ensure_ascii=False, separators=(", ", ": "))
    return f"id: {record_id}\nevent: {kind}\ndata: {data}\n\n".encode()


@dataclass(eq=False, slots=True)
class Subscriber:
    """An open stream: its contract, its credentials (checked again when the contract's access changes), and the
    queue of (record id, chunk) to send (id 0: a heartbeat; None: close)."""

    contract_pk: int
    contract_id: str
    token_pk: int
    authorization: str | None
    ip: str
    expires_at: datetime
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    closed: str = ""  # why it was closed by the hub (a refusal code, "expired_token", "too_slow")

    def push(self, record_id: int, chunk: bytes) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= MAX_QUEUED:
            self.close("too_slow")
            return
        self.queue.put_nowait((record_id, chunk))

    def close(self, reason: str) -> None:
        if not self.closed:
            self.closed = reason
            self.queue.put_nowait(None)


class Hub:
    def __init__(self, *, poll: float, heartbeat: float, threads: int) -> None:
        self.poll, self.heartbeat = poll, heartbeat
        self.store = Store(threads)
        self.uses = stream_uses()
        self.held_minute: datetime | None = None  # the minute the open streams were last noted as connected
        self.subscribers: dict[int, set[Subscriber]] = defaultdict(set)
        self.last_id = 0  # the last record dispatched
        self.access_marks: dict[int, int] = {}  # contract pk → id of its last access.changed record dispatched
        self.wake = asyncio.Event()
        self.listening = False  # PostgreSQL's LISTEN connection is up (listen.py)
        self.tasks: list[asyncio.Task] = []
        self.checks: set[asyncio.Task] = set()  # checks of open streams under way (kept: tasks are weakly held)

    @classmethod
    def from_settings(cls) -> Hub:
        return cls(
            poll=settings.SMARTOA_STREAM_POLL_SECONDS,
            heartbeat=settings.SMARTOA_STREAM_HEARTBEAT_SECONDS,
            threads=settings.SMARTOA_STREAM_DB_THREADS,
        )

    @property
    def open_streams(self) -> int:
        return sum(len(subscribers) for subscribers in self.subscribers.values())

    async def start(self) -> None:
        """Start after the records already written: a stream gets them by replay, from its Last-Event-ID."""
        self.last_id = await self.store.run(store.latest_id)
        self.tasks = [asyncio.create_task(self.read_forever()), asyncio.create_task(self.tick_forever())]
        if connection.vendor == "postgresql":
            from smartoa.stream.listen import listen_forever

            self.tasks.append(asyncio.create_task(listen_forever(self)))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for subscribers in self.subscribers.values():
            for subscriber in subscribers:
                subscriber.close("shutdown")
        with contextlib.suppress(Exception):
            await self.store.run(self.uses.flush)
        self.store.close()

    # --- streams ------------------------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> int:
        """Register an open stream; returns the last record dispatched (the stream replays up to it)."""
        self.subscribers[subscriber.contract_pk].add(subscriber)
        return self.last_id

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscribers = self.subscribers.get(subscriber.contract_pk)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self.subscribers[subscriber.contract_pk]

    # --- the reader ---------------------------------------------------------------------------------------

    def interval(self) -> float:
        return max(PG_FALLBACK_SECONDS, self.poll) if self.listening else self.poll

    async def read_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.interval())
            self.wake.clear()
            try:
                await self.read()
            except Exception:  # the database is away: the next round tries again
                log.warning("could not read the event records", exc_info=True)
                await asyncio.sleep(self.poll)

    async def read(self) -> int:
        """Dispatch every record written since the last one dispatched; returns how many were read."""
        count = 0
        while True:
            records = await self.store.run(store.records_after, self.last_id)
            for record in records:
                self.dispatch(record)
            count += len(records)
            if len(records) < store.READ_LIMIT:
                return count

    def dispatch(self, record: Record) -> None:
        self.last_id = record.id
        if record.type == ACCESS_CHANGED:
            self.access_marks[record.contract_pk] = record.id
            if record.contract_pk in self.subscribers:
                self.start_check(record.contract_pk)
            return
        subscribers = self.subscribers.get(record.contract_pk)
        if subscribers:
            chunk = event_chunk(record.id, record.type, record.payload())
            for subscriber in subscribers:
                subscriber.push(record.id, chunk)

    def start_check(self, contract_pk: int) -> None:
        task = asyncio.create_task(self.check(contract_pk))
        self.checks.add(task)
        task.add_done_callback(self.checks.discard)

    async def check(self, contract_pk: int) -> None:
        """Authenticate the contract's open streams again; close those refused now."""
        for subscriber in list(self.subscribers.get(contract_pk, ())):
            try:
                refusal = await self.store.run(store.still_allowed, subscriber.authorization, subscriber.ip, now())
            except Exception:
                log.warning("could not check an open stream of contract %s", subscriber.contract_id, exc_info=True)
                continue
            if refusal:
                subscriber.close(refusal)

    # --- heartbeat, token expiry, stream uses -------------------------------------------------------------

    async def tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            moment = now()
            self.tick(moment)
            self.note_held(moment)
            try:
                await self.store.run(self.uses.flush)
            except Exception:  # informational only
                log.warning("could not record the stream connections on their tokens", exc_info=True)

    def note_held(self, moment: datetime) -> None:
        """Once a minute, note every open stream's token as connected now (``last_stream_at``; its address was
        written when it opened): a machine that stays connected is seen, and has received what was published
        meanwhile. Written by the next flush in the database threads, one UPDATE per 500 ids."""
        minute = moment.replace(second=0, microsecond=0)
        if minute == self.held_minute:
            return
        self.held_minute = minute
        for subscribers in self.subscribers.values():
            for subscriber in subscribers:
                if not subscriber.closed:
                    self.uses.note(subscriber.token_pk, minute, "")

    def tick(self, moment: datetime) -> None:
        """A heartbeat to every open stream; those whose token expired are closed."""
        for subscribers in list(self.subscribers.values()):
            for subscriber in list(subscribers):
                if subscriber.expires_at <= moment:
                    subscriber.close("expired_token")
                else:
                    subscriber.push(0, HEARTBEAT)
