"""The event record: one ``Event`` row per (change, contract), written in the caller's transaction, that the
e-mails, the webhook calls and the event stream of that change all tell (``notifications/events.py`` writes the
records of the consigne, HLAR and token events; the token and address services write ``access.changed``).

Ids are the stream's SSE ids and must become visible in increasing order: on PostgreSQL the writers take a
transaction-level advisory lock before inserting (so a later id never commits before an earlier one) and
``NOTIFY smartoa_events`` (delivered at commit) wakes the stream processes; SQLite serialises writers already and
the stream process polls the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection

from smartoa.core.clock import now
from smartoa.core.sql import chunks, placeholders
from smartoa.domain.calendar import iso
from smartoa.notifications.models import Event

CHANNEL = "smartoa_events"  # PostgreSQL's NOTIFY channel the stream processes LISTEN on
ORDER_LOCK = 0x534F4145  # advisory lock key ("SOAE") serialising the event writers on PostgreSQL
ROWS_PER_INSERT = 100  # 7 parameters each: under SQLite's 999
_COLUMNS = ("type", "contract_id", "day", "version", "created_at", "data", "key")

ACCESS_CHANGED = Event.Type.ACCESS_CHANGED.value
PUBLIC_TYPES = tuple(t.value for t in Event.Type if t != Event.Type.ACCESS_CHANGED)


@dataclass(frozen=True)
class EventDraft:
    """An event record to write (``write``)."""

    type: str
    contract_pk: int
    day: date | None = None
    version: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    key: str | None = None  # dedupe key: a record with this key already written is not written again


def existing_keys(keys: Iterable[str]) -> dict[str, int]:
    """The records already written with these dedupe keys: key → id."""
    found: dict[str, int] = {}
    for part in chunks(sorted(set(keys))):
        found.update((k, pk) for k, pk in Event.objects.filter(key__in=part).values_list("key", "pk") if k)
    return found


def write(drafts: Sequence[EventDraft]) -> list[int]:
    """Write the records in the caller's transaction (but those whose key is already there: recorded once) and
    wake the stream processes at commit. Returns each draft's record id, in order (the existing record's for a
    key already there)."""
    keys = [d.key for d in drafts if d.key]
    taken = existing_keys(keys) if keys else {}
    wanted = [(i, d) for i, d in enumerate(drafts) if not d.key or d.key not in taken]
    ids: list[int] = [taken.get(d.key or "", 0) for d in drafts]
    if not wanted:
        return ids
    ops = connection.ops
    at = ops.adapt_datetimefield_value(now())
    as_json = Event._meta.get_field("data").get_db_prep_value
    table = Event._meta.db_table
    row_marks = f"({placeholders(len(_COLUMNS))})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ORDER_LOCK])
        for part in chunks(wanted, ROWS_PER_INSERT):
            params: list[Any] = []
            for _, d in part:
                day = ops.adapt_datefield_value(d.day) if d.day is not None else None
                params += [d.type, d.contract_pk, day, d.version, at, as_json(d.data, connection), d.key]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES {', '.join([row_marks] * len(part))} RETURNING id",
                params,
            )
            # Ids are drawn in the order of the VALUES rows (one statement, one writer at a time).
            for (index, _), (pk,) in zip(part, sorted(cursor.fetchall()), strict=True):
                ids[index] = pk
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])
    return ids


def access_changed(contract_pks: Iterable[int], reason: str) -> None:
    """Record that these contracts' API access was narrowed (a token revoked or replaced, an address removed, the
    contract deactivated): the stream processes check their open streams again at once and close those refused."""
    write([EventDraft(ACCESS_CHANGED, pk, data={"reason": reason}) for pk in sorted(set(contract_pks))])


def url_of(kind: str, day: date | str | None) -> str:
    """The API URL a client reads after an event: the day's document, or the token renewal."""
    if kind == Event.Type.TOKEN_EXPIRING:
        return "/api/v1/token/renew"
    if day is None:
        return ""
    text = day if isinstance(day, str) else day.isoformat()
    return f"/api/v1/effacements?start={text}&end={text}"


def wire(
    pk: int,
    kind: str,
    contract_id: str,
    day: date | None,
    version: int | None,
    created_at: datetime,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The JSON an event is sent as on the stream (docs/webhooks.md, "Event stream")."""
    return {
        "id": pk,
        "type": kind,
        "contract": contract_id,
        "day": day.isoformat() if day is not None else None,
        "version": version,
        "url": url_of(kind, day),
        "created_at": iso(created_at),
        **data,
    }
