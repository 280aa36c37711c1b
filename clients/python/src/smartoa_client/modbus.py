"""An optional Modbus TCP server (``watch --modbus HOST:PORT``) for plant controllers; read-only. The ``modbus``
extra installs pymodbus (≥ 3.16, its ``SimDevice`` server API), which serves the registers; the module is imported
only by ``watch --modbus``.

Register map (holding registers, function code 3; the same values as input registers, function code 4), unit id
any (pymodbus device id 0), 10 registers per contract in the configuration's order: contract ``i`` (0-based)
starts at ``10·i``.

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

Values are computed from the local store when they are read; writes are refused (exception 1, illegal function).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

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
    """A read-only Modbus TCP server served by pymodbus (``ModbusTcpServer`` over a ``SimDevice`` block of
    ``10 × contracts`` registers, any unit id) in a background thread with its own asyncio loop. The registers are
    computed from the store at each read (the device's ``action``); writes and function codes other than 3/4 answer
    exception 1 (illegal function), addresses outside the map exception 2 (pymodbus)."""

    def __init__(self, config: Config, store: Store, host: str, port: int, clock: Callable[[], datetime] | None = None):
        self.config, self.store, self.host, self.port = config, store, host, port
        self.clock = clock or (lambda: datetime.now(UTC))
        self.size = REGISTERS_PER_CONTRACT * len(config.contracts)
        self.loop = asyncio.new_event_loop()
        self.server: ModbusTcpServer | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="modbus", daemon=True)

    def device(self) -> SimDevice:
        """The pymodbus device: one block of registers from address 0, refreshed by ``on_access``."""
        block = SimData(0, values=[0] * self.size, datatype=DataType.REGISTERS)
        return SimDevice(id=0, simdata=[block], action=self.on_access)

    async def on_access(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Refuse writes and other function codes; otherwise fill the registers in place with the values now."""
        if set_values is not None or function_code not in (3, 4):
            return ExcCodes.ILLEGAL_FUNCTION
        values = await asyncio.to_thread(self.values, self.clock())
        current_registers[start_address : start_address + len(values)] = values
        return None

    def values(self, now: datetime) -> list[int]:
        """Every contract's registers at ``now``, in the configuration's order (zeros for a contract that fails)."""
        values: list[int] = []
        for contract in self.config.contracts:
            try:
                values += registers_for(self.config, self.store, contract.id, now)
            except Exception:
                log.exception("%s: Modbus registers not computed", contract.id)
                values += [0] * REGISTERS_PER_CONTRACT
        return values

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(10) or self.server is None:
            raise RuntimeError(f"the Modbus server could not listen on {self.host}:{self.port}")

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._listen())
        except Exception:
            log.exception("the Modbus server could not listen on %s:%s", self.host, self.port)
            self.server = None
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()

    async def _listen(self) -> None:
        self.server = ModbusTcpServer(self.device(), address=(self.host, self.port))
        await self.server.serve_forever(background=True)
        sockets = getattr(self.server.transport, "sockets", None)
        if sockets:
            self.port = sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Close the listener and every client connection, then the loop."""
        if self.loop.is_running() and self.server is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(timeout=5)
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()


def parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--modbus expects HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)
