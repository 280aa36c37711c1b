"""The local record (SQLite, stdlib): every version received, with the time it was received, its raw bytes, ETag and
event id — so a producer can prove what it was told and when — plus what the client did with it (command run,
acknowledgment), each day's acknowledgment state and HLAR, each contract's last successful call, last event id and
token expiry. Safe to use from several threads (one connection per call, WAL)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from smartoa_client.documents import Consigne, canonical_hash

SCHEMA = """
CREATE TABLE IF NOT EXISTS receipts (
    id INTEGER PRIMARY KEY,
    contract TEXT NOT NULL,
    day TEXT NOT NULL,
    version INTEGER,
    update_date TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    etag TEXT,
    event_id TEXT,
    raw BLOB NOT NULL,
    command_status INTEGER,
    command_at TEXT,
    acked_at TEXT
);
CREATE INDEX IF NOT EXISTS receipts_day ON receipts (contract, day, id);
CREATE TABLE IF NOT EXISTS days (
    contract TEXT NOT NULL,
    day TEXT NOT NULL,
    version INTEGER,
    acknowledged_version INTEGER,
    deadline TEXT,
    checked_at TEXT NOT NULL,
    PRIMARY KEY (contract, day)
);
CREATE TABLE IF NOT EXISTS contracts (
    contract TEXT PRIMARY KEY,
    last_success_at TEXT,
    last_event_id TEXT,
    latest_etag TEXT,
    token_expires_at TEXT,
    stream_connected_at TEXT
);
"""


CONTRACT_COLUMNS = {"last_success_at", "last_event_id", "latest_etag", "token_expires_at", "stream_connected_at"}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Receipt:
    id: int
    contract: str
    day: date
    version: int | None
    update_date: str
    received_at: datetime
    source: str
    content_hash: str
    etag: str | None
    event_id: str | None
    raw: bytes
    command_status: int | None
    acked_at: str | None


@dataclass
class DayState:
    contract: str
    day: date
    version: int | None
    acknowledged_version: int | None
    deadline: datetime | None
    checked_at: datetime

    @property
    def acknowledged(self) -> bool:
        return self.version is not None and self.acknowledged_version == self.version


@dataclass
class ContractState:
    contract: str
    last_success_at: datetime | None
    last_event_id: str | None
    latest_etag: str | None
    token_expires_at: datetime | None
    stream_connected_at: datetime | None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Store:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    # --- versions received ------------------------------------------------------------------------------------

    def record(
        self,
        contract: str,
        consigne: Consigne,
        raw: bytes,
        *,
        source: str,
        version: int | None = None,
        etag: str | None = None,
        event_id: str | None = None,
    ) -> tuple[Receipt, bool]:
        """Keep ``consigne`` as received now; returns (its receipt, whether it differs from the day's last one).
        The same content received again is not stored twice (its first receipt is returned), but a version number
        learnt later is filled in."""
        content = canonical_hash(raw)
        day = consigne.application_date.isoformat()
        with self._lock, self.connect() as db:
            last = db.execute(
                "SELECT id, content_hash, version FROM receipts WHERE contract = ? AND day = ?"
                " ORDER BY id DESC LIMIT 1",
                (contract, day),
            ).fetchone()
            if last is not None and last[1] == content:
                if version is not None and last[2] is None:
                    db.execute("UPDATE receipts SET version = ? WHERE id = ?", (version, last[0]))
                receipt_id, new = last[0], False
            else:
                cursor = db.execute(
                    "INSERT INTO receipts (contract, day, version, update_date, received_at, source, content_hash,"
                    " etag, event_id, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        contract,
                        day,
                        version,
                        consigne.update_date.isoformat(),
                        utcnow().isoformat(),
                        source,
                        content,
                        etag,
                        event_id,
                        raw,
                    ),
                )
                receipt_id, new = int(cursor.lastrowid or 0), True
        receipt = self.receipt(receipt_id)
        if receipt is None:
            raise RuntimeError(f"receipt {receipt_id} vanished from {self.path}")
        return receipt, new

    def receipt(self, receipt_id: int) -> Receipt | None:
        with self.connect() as db:
            row = db.execute(_RECEIPT_SQL + " WHERE id = ?", (receipt_id,)).fetchone()
        return _receipt(row) if row else None

    def latest(self, contract: str, day: date) -> Receipt | None:
        with self.connect() as db:
            row = db.execute(
                _RECEIPT_SQL + " WHERE contract = ? AND day = ? ORDER BY id DESC LIMIT 1", (contract, day.isoformat())
            ).fetchone()
        return _receipt(row) if row else None

    def receipts(
        self, contract: str | None = None, start: date | None = None, end: date | None = None
    ) -> list[Receipt]:
        where, args = ["1 = 1"], []
        if contract:
            where.append("contract = ?")
            args.append(contract)
        if start:
            where.append("day >= ?")
            args.append(start.isoformat())
        if end:
            where.append("day <= ?")
            args.append(end.isoformat())
        with self.connect() as db:
            rows = db.execute(_RECEIPT_SQL + " WHERE " + " AND ".join(where) + " ORDER BY id", args).fetchall()
        return [_receipt(r) for r in rows]

    def command_ran(self, receipt_id: int, status: int) -> None:
        with self.connect() as db:
            db.execute(
                "UPDATE receipts SET command_status = ?, command_at = ? WHERE id = ?",
                (status, utcnow().isoformat(), receipt_id),
            )

    def acked(self, receipt_id: int) -> None:
        with self.connect() as db:
            db.execute("UPDATE receipts SET acked_at = ? WHERE id = ?", (utcnow().isoformat(), receipt_id))

    # --- days and contracts -----------------------------------------------------------------------------------

    def set_day(
        self, contract: str, day: date, version: int | None, acknowledged_version: int | None, deadline: datetime
    ) -> None:
        with self.connect() as db:
            db.execute(
                "INSERT INTO days (contract, day, version, acknowledged_version, deadline, checked_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (contract, day) DO UPDATE SET version = excluded.version,"
                " acknowledged_version = excluded.acknowledged_version, deadline = excluded.deadline,"
                " checked_at = excluded.checked_at",
                (contract, day.isoformat(), version, acknowledged_version, deadline.isoformat(), utcnow().isoformat()),
            )

    def days(self, contract: str | None = None, since: date | None = None) -> list[DayState]:
        sql, args = (
            "SELECT contract, day, version, acknowledged_version, deadline, checked_at FROM days WHERE 1 = 1",
            [],
        )
        if contract:
            sql += " AND contract = ?"
            args.append(contract)
        if since:
            sql += " AND day >= ?"
            args.append(since.isoformat())
        with self.connect() as db:
            rows = db.execute(sql + " ORDER BY contract, day", args).fetchall()
        return [
            DayState(r[0], date.fromisoformat(r[1]), r[2], r[3], _moment(r[4]), datetime.fromisoformat(r[5]))
            for r in rows
        ]

    def _contract_set(self, contract: str, column: str, value: str | None) -> None:
        if column not in CONTRACT_COLUMNS:
            raise ValueError(column)
        with self.connect() as db:
            db.execute(
                f"INSERT INTO contracts (contract, {column}) VALUES (?, ?)"
                f" ON CONFLICT (contract) DO UPDATE SET {column} = excluded.{column}",
                (contract, value),
            )

    def succeeded(self, contract: str) -> None:
        self._contract_set(contract, "last_success_at", utcnow().isoformat())

    def set_last_event_id(self, contract: str, event_id: str) -> None:
        self._contract_set(contract, "last_event_id", event_id)

    def set_etag(self, contract: str, etag: str | None) -> None:
        self._contract_set(contract, "latest_etag", etag)

    def set_token_expiry(self, contract: str, expires_at: datetime) -> None:
        self._contract_set(contract, "token_expires_at", expires_at.isoformat())

    def stream_connected(self, contract: str) -> None:
        self._contract_set(contract, "stream_connected_at", utcnow().isoformat())

    def contract(self, contract: str) -> ContractState:
        with self.connect() as db:
            row = db.execute(
                "SELECT contract, last_success_at, last_event_id, latest_etag, token_expires_at, stream_connected_at"
                " FROM contracts WHERE contract = ?",
                (contract,),
            ).fetchone()
        if row is None:
            return ContractState(contract, None, None, None, None, None)
        return ContractState(row[0], _moment(row[1]), row[2], row[3], _moment(row[4]), _moment(row[5]))


_RECEIPT_SQL = (
    "SELECT id, contract, day, version, update_date, received_at, source, content_hash, etag, event_id, raw,"
    " command_status, acked_at FROM receipts"
)


def _receipt(row: tuple) -> Receipt:
    return Receipt(
        id=row[0],
        contract=row[1],
        day=date.fromisoformat(row[2]),
        version=row[3],
        update_date=row[4],
        received_at=datetime.fromisoformat(row[5]),
        source=row[6],
        content_hash=row[7],
        etag=row[8],
        event_id=row[9],
        raw=bytes(row[10]),
        command_status=row[11],
        acked_at=row[12],
    )
