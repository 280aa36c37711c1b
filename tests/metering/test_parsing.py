"""Curve parsing without a database: the file read once, the one start parser shared by both validation passes
(daylight-saving days included), and the per-contract energy limit."""

import hashlib
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import polars as pl
import pytest

from smartoa.domain.calendar import iso, steps
from smartoa.domain.errors import InvalidInput
from smartoa.metering import parsing
from smartoa.metering.parsing import CurveImportError, KnownContracts, parse_curves, parse_starts

SPRING = date(2026, 3, 29)  # 23 hours: 276 steps
AUTUMN = date(2026, 10, 25)  # 25 hours: 300 steps
KNOWN = KnownContracts.of([("BOA1", 7, Decimal(15)), ("BOA2", 3, Decimal("0.036"))], max_ratio=1.5)


def csv_of(rows) -> bytes:
    return ("contract_id,start,energy_kwh\n" + "".join(f"{c},{s},{e}\n" for c, s, e in rows)).encode()


def day_rows(contract_id, day, value=1.0):
    return [(contract_id, iso(moment), value) for moment in steps(day)]


def frame_of(data: bytes) -> pl.DataFrame:
    frame, _ = parsing._read_frame(data)
    return frame


class CountingReader(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.reads = 0

    def read(self, *args):
        self.reads += 1
        return super().read(*args)


# --- the file is read once --------------------------------------------------------------------------------------


def test_a_file_object_is_read_once_and_its_bytes_hashed():
    data = csv_of(day_rows("BOA1", SPRING))
    reader = CountingReader(data)
    parsed = parse_curves(reader, KNOWN)
    assert reader.reads == 1
    assert parsed.sha256 == hashlib.sha256(data).hexdigest()
    assert parsed.rows == 276 and parsed.contract_pk.tolist() == [7]


def test_a_path_is_opened_and_read_once(tmp_path, monkeypatch):
    path = tmp_path / "curves.csv"
    path.write_bytes(csv_of(day_rows("BOA1", AUTUMN)))
    handles = []

    def counting_open(*args, **kwargs):
        with open(*args, **kwargs) as real:
            handle = CountingReader(real.read())
        handles.append(handle)
        return handle

    monkeypatch.setattr(parsing, "open", counting_open, raising=False)
    parsed = parse_curves(path, KNOWN)
    assert [h.reads for h in handles] == [1]
    assert parsed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert parse_curves(str(path), KNOWN).sha256 == parsed.sha256


def test_bytes_and_path_give_the_same_curves(tmp_path):
    data = csv_of(day_rows("BOA1", AUTUMN, 0.5) + day_rows("BOA2", AUTUMN, 2.0))
    path = tmp_path / "c.csv"
    path.write_bytes(data)
    from_bytes, from_path = parse_curves(data, KNOWN), parse_curves(path, KNOWN)
    assert from_bytes.sha256 == from_path.sha256
    assert from_bytes.contract_pk.tolist() == [3, 7]  # rows in primary-key order
    assert np.array_equal(from_bytes.values, from_path.values)


# --- one start parser -------------------------------------------------------------------------------------------


def expected_epochs_us(texts):
    return [int(datetime.fromisoformat(t).timestamp()) * 1_000_000 for t in texts]


@pytest.mark.parametrize("day", [SPRING, AUTUMN, date(2026, 7, 14)])
def test_text_and_aware_timestamps_give_the_same_instants(day):
    moments = list(steps(day))
    texts = [iso(m) for m in moments]
    from_text = parse_starts(pl.Series("start", texts))
    aware = pl.Series("start", [m.astimezone(UTC) for m in moments]).dt.convert_time_zone("Europe/Paris")
    from_timestamps = parse_starts(aware)
    assert from_text.at.to_list() == from_timestamps.at.to_list() == expected_epochs_us(texts)
    assert not from_text.bad.any() and not from_timestamps.bad.any()
    assert from_text.offsets.to_list() == [int(m.utcoffset().total_seconds()) for m in moments]
    assert from_timestamps.offsets is None
    assert len(texts) == {SPRING: 276, AUTUMN: 300}.get(day, 288)


def test_malformed_starts_are_flagged():
    texts = [
        "2026-10-25T02:30:00+02:00",  # first 02:30 of the autumn day
        "2026-10-25T02:30:00+01:00",  # second 02:30
        "2026-10-25T02:30:00",  # no offset
        "2026-10-25 02:30:00+01:00",  # space
        "2026-10-25T02:30:00+0100",  # offset without colon
        "2026-13-25T02:30:00+01:00",  # month 13
        "2026-10-25T02:30:00+-1:00",  # sign twice
        "",
        None,
    ]
    starts = parse_starts(pl.Series("start", texts, dtype=pl.String))
    assert starts.bad.to_list() == [False, False] + [True] * 7
    assert starts.at.to_list()[:2] == expected_epochs_us(texts[:2])
    assert starts.at.to_list()[1] - starts.at.to_list()[0] == 3600 * 1_000_000


def test_a_naive_or_numeric_start_column_is_refused():
    with pytest.raises(CurveImportError, match="start has no time zone"):
        parse_starts(pl.Series("start", [datetime(2026, 3, 29, 12)]))  # noqa: DTZ001 - the naive case itself
    with pytest.raises(CurveImportError, match="start must be ISO 8601"):
        parse_starts(pl.Series("start", [1, 2]))


# Each case: rows and the message of the bad row (None: the file is good). Both passes must agree.
CASES = [
    (day_rows("BOA1", SPRING), None),
    (day_rows("BOA1", AUTUMN), None),
    ([*day_rows("BOA1", SPRING)[:24], ("BOA1", "2026-03-29T02:00:00+01:00", 1)], "wrong UTC offset"),
    ([*day_rows("BOA1", SPRING)[:24], ("BOA1", "2026-03-29T02:30:00+02:00", 1)], "wrong UTC offset"),
    ([*day_rows("BOA1", SPRING)[:24], ("BOA1", "2026-03-29T02:30:00+01:00", 1)], "wrong UTC offset"),
    ([*day_rows("BOA1", AUTUMN)[:2], ("BOA1", "2026-10-25T03:30:00+02:00", 1)], "wrong UTC offset"),
    ([*day_rows("BOA1", AUTUMN)[:2], ("BOA1", "2026-10-25T02:30:00", 1)], "start is not an ISO date-time"),
    ([*day_rows("BOA1", AUTUMN)[:2], ("BOA1", "2026-10-25T02:31:00+01:00", 1)], "start is not on a 5-minute boundary"),
    ([*day_rows("BOA1", AUTUMN)[:2], ("BOA1", "1999-12-31T23:55:00+01:00", 1)], "start is outside the days handled"),
    ([*day_rows("BOA1", AUTUMN)[:30], day_rows("BOA1", AUTUMN)[25]], "duplicate step"),
]


@pytest.mark.parametrize(("rows", "problem"), CASES)
def test_the_fast_and_the_reporting_pass_agree(rows, problem):
    frame = frame_of(csv_of(rows))
    fast = parsing._parse_fast(frame, KNOWN, whole_wh=True)
    if problem is None:
        assert fast is not None and fast.rows == len(rows)
        parsing._report_errors(frame, False, KNOWN)  # finds nothing either
        given = np.flatnonzero(parsing.codec.given(fast.values[0]))
        first = fast.grid.grid.day_slice(date.fromisoformat(rows[0][1][:10])).start
        assert given.tolist() == list(range(first, first + len(rows)))
    else:
        assert fast is None
        with pytest.raises(CurveImportError) as caught:
            parsing._report_errors(frame, False, KNOWN)
        assert str(caught.value).startswith("nothing was imported (errors: 1):\n")
        assert f"line {len(rows) + 1}: {problem}" in str(caught.value)


def test_autumn_wall_clock_hour_twice_lands_on_two_steps():
    rows = [("BOA1", "2026-10-25T02:30:00+02:00", 1), ("BOA1", "2026-10-25T02:30:00+01:00", 2)]
    parsed = parse_curves(csv_of(rows), KNOWN)
    day = parsed.grid.grid.day_slice(AUTUMN)
    values = parsed.values[0, day]
    assert values[30] == 1000 and values[42] == 2000  # Wh; 02:30 CEST is step 30, 02:30 CET step 42
    assert (values >= 0).sum() == 2


# --- energy limits ----------------------------------------------------------------------------------------------


def test_the_limit_is_the_installed_energy_of_a_step_times_the_ratio():
    assert KNOWN.max_kwh.tolist() == pytest.approx([0.036 * 1000 / 12 * 1.5, 15 * 1000 / 12 * 1.5])
    doubled = KnownContracts.of([("BOA1", 7, Decimal(15))], max_ratio=2.0)
    assert doubled.max_kwh.tolist() == [2500.0]


def test_impossible_energies_are_refused_row_by_row():
    good = day_rows("BOA1", SPRING, 1875)  # exactly 150 % of 15 MW over 5 minutes: accepted
    assert parse_curves(csv_of(good), KNOWN).rows == 276
    rows = [*good[:3], ("BOA1", good[3][1], "1875.001"), ("BOA1", good[4][1], "1e300"), ("BOA2", good[0][1], 5)]
    assert parsing._parse_fast(frame_of(csv_of(rows[:4])), KNOWN, whole_wh=True) is None
    assert parsing._parse_fast(frame_of(csv_of(rows)), KNOWN, whole_wh=False) is None
    with pytest.raises(CurveImportError) as caught:
        parse_curves(csv_of(rows), KNOWN)
    message = str(caught.value)
    assert message.startswith("nothing was imported (errors: 3):\n")
    assert (
        "line 5: energy 1875.001 kWh exceeds the 1875 kWh a 15 MW installation can produce in 5 minutes "
        "(limit 150 %)" in message
    )
    assert "line 6: energy 1e+300 kWh exceeds the 1875 kWh a 15 MW installation" in message
    assert "line 7: energy 5 kWh exceeds the 4.5 kWh a 0.036 MW installation can produce in 5 minutes" in message


def test_infinite_and_nan_energies_are_still_not_numbers():
    good = day_rows("BOA1", SPRING)
    for text in ["inf", "-inf", "nan", "NaN"]:
        with pytest.raises(CurveImportError, match="line 3: energy is not a number"):
            parse_curves(csv_of([good[0], ("BOA1", good[1][1], text)]), KNOWN)


def test_parquet_energies_over_the_limit_are_named_by_row():
    moments = list(steps(AUTUMN))
    energy = np.full(len(moments), 100.0)
    energy[299] = 1e300
    frame = pl.DataFrame(
        {
            "contract_id": ["BOA1"] * len(moments),
            "start": pl.Series([m.astimezone(UTC) for m in moments]).dt.convert_time_zone("Europe/Paris"),
            "energy_kwh": energy,
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    with pytest.raises(CurveImportError, match=r"^nothing was imported \(errors: 1\):\nrow 300: energy 1e\+300 kWh"):
        parse_curves(buffer.getvalue(), KNOWN)


def test_the_refusal_is_an_invalid_input_with_its_code():
    with pytest.raises(InvalidInput) as caught:
        parse_curves(b"contract_id,start,energy_kwh\n", KNOWN)
    assert caught.value.code == "invalid_input" and caught.value.message == "the file holds no data row"
