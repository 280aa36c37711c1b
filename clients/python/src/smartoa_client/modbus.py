"""An optional Modbus TCP server (``watch --modbus HOST:PORT``) for plant controllers; read-only. The ``modbus``
extra installs pymodbus, a client to read the registers (the tests use it).

Register map (holding registers, function code 3; the same values as input registers, function code 4), unit id
any, 10 registers per contract in the configuration's order: contract ``i`` (0-based) starts at ``10·i``.

    +0  stop flag now: 1 = stop production (effacement) in force now, 0 = no stop
    +1  next change time, Unix epoch seconds, high word  (0 when no change is known today or tomorrow)
    +2  next change time, low word
    +3  value after that change (0/1)
    +4  current version of today's consigne (0 when none received)
    +5  acknowledged version of today's consigne (0 when none)
    +6  current version of tomorrow's consigne (0 when none received)
    +7  acknowledged version of tomorrow's consigne (0 when none)
    +8  data valid: 1 when today's consigne is known and the last successful call is recent, else 0
    +9  seconds since the last successful call, capped at 65535

Values are recomputed every second from the local store; writes by a client are ignored (overwritten).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from smartoa_client.config import Config
from smartoa_client.documents import PARIS, Consigne, parse_document
from smartoa_client.store import Store

log = logging.getLogger("smartoa_client")

REGISTERS_PER_CONTRACT = 10


def registers_for(config: Config, store: Store, contract: str, now: datetime) -> list[int]:
    """The 10 register values of ``contract`` at ``now``."""
    today = now.astimezone(PARIS).date()
    tomorrow = today + timedelta(days=1)
    documents: dict[Any, Consigne] = {}
    for day in (today, tomorrow):
        receipt = store.latest(contract, day)
        if receipt is not None:
            documents[day] = parse_document(receipt.raw)
    days = {d.day: d for d in store.days(contract, since=today)}
    values = [0] * REGISTERS_PER_CONTRACT
    current = documents.get(today)
    now_value = current.value_at(now) if current else None
    values[0] = int(now_value == 1.0)
    change = next_change(documents, now, now_value)
    if change is not None:
        epoch = int(change[0].timestamp())
        values[1], values[2], values[3] = (epoch >> 16) & 0xFFFF, epoch & 0xFFFF, int(change[1] == 1.0)
    for index, day in ((4, today), (6, tomorrow)):
        state = days.get(day)
        if state is not None:
            values[index] = min(state.version or 0, 0xFFFF)
            values[index + 1] = min(state.acknowledged_version or 0, 0xFFFF)
    last = store.contract(contract).last_success_at
    silence = (now - last).total_seconds() if last else 1e9
    fresh = silence < config.thresholds.silence_critical_minutes * 60
    values[8] = int(current is not None and fresh)
    values[9] = int(min(max(silence, 0), 0xFFFF))
    return values


def next_change(
    documents: dict[Any, Consigne], now: datetime, now_value: float | None
) -> tuple[datetime, float] | None:
    """The first instant after ``now`` where the value differs from ``now_value``, over the known days."""
    value = now_value
    for day in sorted(documents):
        for period in documents[day].data:
            if period.end_date <= now:
                continue
            if value is not None and period.value != value and period.start_date > now:
                return period.start_date, period.value
            value = period.value
    return None


class ModbusOutput:
    """A read-only Modbus TCP server (function codes 3 and 4; others answer exception 1, addresses out of the map
    exception 2) in a background thread with its own asyncio loop. The protocol's read path is a few lines of
    framing (MBAP header + PDU), kept here so the registers are exactly those computed by ``registers_for``."""

    def __init__(self, config: Config, store: Store, host: str, port: int):
        self.config, self.store, self.host, self.port = config, store, host, port
        self.values = [0] * (REGISTERS_PER_CONTRACT * len(config.contracts))
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.base_events.Server | None = None
        self.ready = threading.Event()
        self.writers: set[asyncio.StreamWriter] = set()
        self.thread = threading.Thread(target=self._serve, name="modbus", daemon=True)

    def start(self) -> None:
        self.refresh()
        self.thread.start()
        if not self.ready.wait(10) or self.server is None:
            raise RuntimeError(f"the Modbus server could not listen on {self.host}:{self.port}")

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.server = self.loop.run_until_complete(asyncio.start_server(self._client, self.host, self.port))
            self.port = self.server.sockets[0].getsockname()[1]
        except OSError:
            log.exception("the Modbus server could not listen on %s:%s", self.host, self.port)
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            while True:
                header = await reader.readexactly(7)
                transaction, protocol, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1) if length > 1 else b""
                if protocol != 0:
                    break
                answer = self.answer(pdu)
                writer.write(struct.pack(">HHHB", transaction, 0, len(answer) + 1, unit) + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    def answer(self, pdu: bytes) -> bytes:
        """The response PDU of a request PDU."""
        function = pdu[0] if pdu else 0
        if function not in (3, 4) or len(pdu) != 5:
            return bytes([function | 0x80, 1])
        address, count = struct.unpack(">HH", pdu[1:5])
        values = list(self.values)
        if not 1 <= count <= 125 or address + count > len(values):
            return bytes([function | 0x80, 2])
        return bytes([function, 2 * count]) + struct.pack(f">{count}H", *values[address : address + count])

    def refresh(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        values: list[int] = []
        for contract in self.config.contracts:
            try:
                values += registers_for(self.config, self.store, contract.id, now)
            except Exception:
                log.exception("%s: Modbus registers not updated", contract.id)
                values += [0] * REGISTERS_PER_CONTRACT
        self.values = values

    def stop(self) -> None:
        """Close the listener and every client connection, then the loop."""

        async def close() -> None:
            if self.server is not None:
                self.server.close()
            for writer in list(self.writers):
                writer.close()
            if self.server is not None:
                await self.server.wait_closed()

        if self.loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()


def parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--modbus expects HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)
