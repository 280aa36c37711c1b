"""The command against a local server sending documents the client must refuse, the export's steps, and the Modbus
output read by a Modbus client."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from smartoa_client.cli import main
from smartoa_client.config import from_dict
from smartoa_client.documents import PARIS, parse_document
from smartoa_client.export import steps
from smartoa_client.modbus import ModbusOutput, registers_for
from smartoa_client.store import Store
from test_client_http import SEED, scripted  # noqa: F401 - the scripted HTTP server fixture


def configure(tmp_path, url: str, monkeypatch) -> str:
    monkeypatch.setenv("TOKEN_BOA00001", "t" * 43)
    path = tmp_path / "client.toml"
    path.write_text(
        f'base_url = "{url}"\nstore = "{tmp_path / "s.sqlite3"}"\nretries = 1\n'
        '[[contracts]]\nid = "BOA00001"\ntoken_env = "TOKEN_BOA00001"\n'
    )
    return str(path)


def broken(change) -> bytes:
    document = json.loads(SEED)
    change(document)
    return json.dumps(document).encode()


def _gap(d):
    d["data"][1]["start_date"] = "2026-12-07T12:00:00+01:00"


def _offset(d):
    d["data"][1]["start_date"] = "2026-12-07T12:55:00+02:00"
    d["data"][0]["end_date"] = "2026-12-07T12:55:00+02:00"


def _length(d):
    d["data"][2]["end_date"] = "2026-12-08T01:00:00+01:00"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_gap, "gap between data[0] ending 2026-12-07T11:55:00+01:00 and data[1] starting 2026-12-07T12:00:00+01:00"),
        (_offset, "data[0].end_date 2026-12-07T12:55:00+02:00 has offset +02:00 but Europe/Paris is at +01:00"),
        (_length, "the periods cover 25 h but the local day 2026-12-07 lasts 24 h in Europe/Paris"),
    ],
)
def test_fetch_refuses_a_faulty_document_with_a_clear_message(scripted, tmp_path, monkeypatch, capsys, change, message):  # noqa: F811
    server = scripted((200, {"Content-Type": "application/json"}, broken(change)))
    assert main(["--config", configure(tmp_path, server.url, monkeypatch), "fetch"]) == 1
    captured = capsys.readouterr()
    assert f"BOA00001: invalid consigne document (BOA00001): {message}" in captured.err
    assert Store(tmp_path / "s.sqlite3").receipts() == []  # nothing kept as if it were usable


def test_export_steps_take_the_safe_side():
    consigne = parse_document(SEED)
    rows = steps(consigne, 15)
    assert len(rows) == 96
    by_time = {local[11:16]: stop for local, _, stop in rows}
    assert (by_time["11:30"], by_time["11:45"], by_time["17:45"], by_time["18:00"]) == (False, True, True, False)
    assert len(steps(consigne, 5)) == 288
    with pytest.raises(ValueError, match="5 or 15"):
        steps(consigne, 10)


def read(client, function: int, address: int, count: int, device_id: int = 1) -> list[int] | int:
    """The registers read with pymodbus's client, or minus the exception code."""
    reader = client.read_holding_registers if function == 3 else client.read_input_registers
    response = reader(address, count=count, device_id=device_id)
    return -response.exception_code if response.isError() else list(response.registers)


def test_modbus_registers_say_the_stop_now_the_next_change_and_the_versions(tmp_path):
    pymodbus_client = pytest.importorskip("pymodbus.client")  # the `modbus` extra (server and client)
    today = date(2026, 7, 14)
    start, end = (datetime.combine(d, datetime.min.time(), tzinfo=PARIS) for d in (today, today + timedelta(days=1)))
    stop_from, stop_to = start + timedelta(hours=11, minutes=55), start + timedelta(hours=18)
    now = start + timedelta(hours=12)  # during the stop
    document = {
        "id": "BOA00001",
        "update_date": (start - timedelta(hours=8)).isoformat(),
        "application_date": today.isoformat(),
        "data": [
            {"start_date": a.isoformat(), "end_date": b.isoformat(), "value": v}
            for a, b, v in [(start, stop_from, 0.0), (stop_from, stop_to, 1.0), (stop_to, end, 0.0)]
        ],
    }
    raw = json.dumps(document).encode()
    contracts = [{"id": "BOA00000", "token_env": "T"}, {"id": "BOA00001", "token_env": "T"}]
    config = from_dict({"base_url": "http://x", "contracts": contracts})
    store = Store(tmp_path / "s.sqlite3")
    store.record("BOA00001", parse_document(raw), raw, source="test", version=3)
    store.set_day("BOA00001", today, 3, 2, start - timedelta(hours=8))
    values = registers_for(config, store, "BOA00001", now)
    epoch = int(stop_to.timestamp())
    assert values == [1, epoch >> 16, epoch & 0xFFFF, 0, 3, 2, 0, 0, 0, 65535]  # no successful call: not valid
    store.succeeded("BOA00001")
    assert registers_for(config, store, "BOA00001", datetime.now(UTC))[8:] == [0, 0]  # today's consigne unknown
    assert registers_for(config, store, "BOA00001", stop_to)[:4] == [0, 0, 0, 0]  # no change after 18:00

    clock = [now]
    output = ModbusOutput(config, store, "127.0.0.1", 0, clock=lambda: clock[0])
    output.start()
    client = pymodbus_client.ModbusTcpClient("127.0.0.1", port=output.port, timeout=5)
    try:
        assert client.connect()
        assert read(client, 3, 10, 10)[:8] == values[:8]
        assert read(client, 4, 10, 1) == [1]
        assert read(client, 3, 10, 1, device_id=17) == [1]  # any unit id
        assert read(client, 3, 0, 10) == [0] * 9 + [65535]  # BOA00000: nothing received, never called
        assert read(client, 3, 15, 10) == -2  # beyond the map
        assert client.write_register(14, 1, device_id=1).exception_code == 1  # writes refused
        assert client.write_registers(0, [1, 1], device_id=1).exception_code == 1
        assert client.read_coils(0, count=1, device_id=1).exception_code == 1  # only function codes 3 and 4
        assert read(client, 3, 10, 10)[:8] == values[:8]  # unchanged by the refused writes
        store.set_day("BOA00001", today, 3, 3, start - timedelta(hours=8))  # acknowledged since: read time values
        assert read(client, 3, 15, 1) == [3]
        clock[0] = stop_to + timedelta(minutes=1)
        assert read(client, 3, 10, 4) == [0, 0, 0, 0]
    finally:
        client.close()
        output.stop()
