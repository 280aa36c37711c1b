"""Curve import: validation (all or nothing, row numbers), storage per contract-month with history, read-back."""

import hashlib
from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from smartoa.core.formats import error_text
from smartoa.domain.calendar import PARIS, iso, steps
from smartoa.domain.curves import Grid
from smartoa.metering import codec
from smartoa.metering.models import CurveHistory, CurveImport, CurveKind, CurveMonth
from smartoa.metering.parsing import CurveImportError
from smartoa.metering.services import import_curves
from smartoa.metering.storage import read_dense

DAY = date(2025, 9, 22)
AT_DAY = 21 * 288  # DAY's first step in September 2025 (30 days of 288 steps)


def csv_of(rows):
    return ("contract_id,start,energy_kwh\n" + "".join(f"{c},{s},{e}\n" for c, s, e in rows)).encode()


def day_rows(contract_id, day, value=lambda i: i * 0.5):
    return [(contract_id, iso(moment), value(i)) for i, moment in enumerate(steps(day))]


def do_import(data, name="test.csv"):
    return import_curves(data, source_name=name, actor="test")


def test_csv_import_stores_one_array_per_contract_month(make_contract):
    make_contract("BOA1")
    make_contract("BOA2")
    rows = day_rows("BOA1", DAY) + day_rows("BOA2", DAY)[:10]
    imported = do_import(csv_of(rows), "realised-sept.csv")
    assert (imported.rows, imported.contract_days, imported.revised_days) == (298, 2, 0)
    assert imported.source == "realised-sept.csv" and imported.received_at is not None and len(imported.sha256) == 64
    full = CurveMonth.objects.get(contract__contract_id="BOA1")
    assert (full.month, full.revision, full.steps, full.present) == (date(2025, 9, 1), 1, 30 * 288, 288)
    assert full.array()[AT_DAY + 144] == 72.0 and np.isnan(full.array()[:AT_DAY]).all()
    assert full.curve_import == imported and bytes(full.values)[0] == codec.WH_INT32
    partial = CurveMonth.objects.get(contract__contract_id="BOA2").array()
    assert np.isnan(partial[AT_DAY + 10 :]).all() and partial[AT_DAY + 9] == 4.5


def test_errors_are_listed_by_line_and_nothing_is_stored(make_contract):
    make_contract("BOA1")
    good = day_rows("BOA1", DAY)
    rows = [
        good[0],
        ("BOAZZZ", good[1][1], 1),  # line 3: unknown contract
        ("BOA1", "2025-09-22T00:07:00+02:00", 1),  # line 4: not on the grid
        ("BOA1", "2025-09-22T00:10:00+01:00", 1),  # line 5: wrong offset in September
        ("BOA1", good[0][1], 2),  # line 6: duplicate of line 2
        ("BOA1", good[3][1], -1),  # line 7: negative
        ("BOA1", good[4][1], "abc"),  # line 8: not a number
        ("BOA1", good[5][1], ""),  # line 9: missing
        ("BOA1", good[6][1], "1,5"),  # line 10 has 4 fields: refused as malformed or not a number
    ]
    with pytest.raises(CurveImportError) as caught:
        do_import(csv_of(rows[:-1]))
    message = str(caught.value)
    for expected in [
        "line 3: unknown contract",
        "line 4: start is not on a 5-minute boundary",
        "line 5: wrong UTC offset",
        "line 6: duplicate step",
        "line 7: negative energy",
        "line 8: energy is not a number",
        "line 9: missing energy",
    ]:
        assert expected in message
    assert "line 2:" not in message
    assert CurveImport.objects.count() == 0 and CurveMonth.objects.count() == 0


def test_timestamps_without_offset_or_wrong_format_are_refused(make_contract):
    make_contract("BOA1")
    with pytest.raises(CurveImportError, match="line 2: start is not an ISO date-time with offset"):
        do_import(csv_of([("BOA1", "2025-09-22T00:00:00", 1)]))
    with pytest.raises(CurveImportError, match="missing column"):
        do_import(b"contract,start,energy\nBOA1,x,1\n")
    with pytest.raises(CurveImportError, match="no data row"):
        do_import(b"contract_id,start,energy_kwh\n")


def test_parquet_with_aware_timestamps_and_row_numbers(make_contract, tmp_path):
    make_contract("BOA1")
    day = date(2026, 10, 25)  # 25 hours: 300 steps
    moments = list(steps(day))
    frame = pl.DataFrame(
        {
            "contract_id": ["BOA1"] * len(moments),
            "start": pl.Series([m.astimezone(UTC) for m in moments]).dt.convert_time_zone("Europe/Paris"),
            "energy_kwh": np.arange(len(moments), dtype=float),
        }
    )
    path = tmp_path / "curves.parquet"
    frame.write_parquet(path)
    imported = do_import(path, "curves.parquet")
    stored = CurveMonth.objects.get()
    assert imported.rows == 300 and stored.steps == 31 * 288 + 12 and stored.present == 300
    assert stored.array()[24 * 288 + 299] == 299.0 and np.isnan(stored.array()[24 * 288 + 300 :]).all()
    bad = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 4).then(-1.0).otherwise("energy_kwh").alias("energy_kwh")
    )
    bad.write_parquet(path)
    with pytest.raises(CurveImportError, match=r"row 5: negative energy"):
        do_import(path)
    text = frame.with_columns(pl.Series("start", [iso(m) for m in moments]))
    text.write_parquet(path)
    assert do_import(path).revised_days == 1


def test_revision_merges_partial_day_and_keeps_history(make_contract):
    make_contract("BOA1")
    first = do_import(csv_of(day_rows("BOA1", DAY, lambda i: 1.0)))
    noon = iso(datetime(2025, 9, 22, 12, 0, tzinfo=PARIS))
    second = do_import(csv_of([("BOA1", noon, 0.0)]), "correction.csv")
    assert (second.contract_days, second.revised_days) == (1, 1)
    current = CurveMonth.objects.get()
    assert (current.revision, current.curve_import, current.present) == (2, second, 288)
    values = current.array()
    assert values[AT_DAY + 144] == 0.0 and values[AT_DAY + 143] == 1.0
    assert np.isfinite(values[AT_DAY : AT_DAY + 288]).all()
    old = CurveHistory.objects.get()
    assert (old.revision, old.curve_import, old.replaced_by) == (1, first, second)
    assert old.array()[AT_DAY + 144] == 1.0


def test_new_days_fill_the_month_without_a_revision(make_contract):
    make_contract("BOA1")
    do_import(csv_of(day_rows("BOA1", DAY, lambda i: 1.0)))
    later = do_import(csv_of(day_rows("BOA1", date(2025, 9, 23), lambda i: 2.0)))
    assert (later.contract_days, later.revised_days) == (1, 0)
    month = CurveMonth.objects.get()
    assert (month.revision, month.present, month.curve_import) == (1, 576, later)
    assert month.array()[AT_DAY] == 1.0 and month.array()[AT_DAY + 288] == 2.0
    assert not CurveHistory.objects.exists()


def test_a_file_across_two_months_makes_two_rows(make_contract):
    make_contract("BOA1")
    rows = day_rows("BOA1", date(2025, 9, 30)) + day_rows("BOA1", date(2025, 10, 1))
    imported = do_import(csv_of(rows))
    assert (imported.contract_days, imported.first_day, imported.last_day) == (2, date(2025, 9, 30), date(2025, 10, 1))
    months = list(CurveMonth.objects.order_by("month"))
    assert [(m.month, m.present) for m in months] == [(date(2025, 9, 1), 288), (date(2025, 10, 1), 288)]
    grid = Grid.for_days(date(2025, 9, 30), date(2025, 10, 1))
    dense = read_dense(grid, [months[0].contract_id])
    assert dense.energy[0, 287] == 143.5 and dense.energy[0, 288] == 0.0
    assert dense.revisions.tolist() == [[1, 1]]


def test_dense_read_back_over_a_dst_month(make_contract):
    one, two = make_contract("BOA1"), make_contract("BOA2")
    spring = date(2026, 3, 29)
    do_import(csv_of(day_rows("BOA2", spring, lambda i: 2.0) + day_rows("BOA1", date(2026, 3, 31), lambda i: 3.0)))
    grid = Grid.for_days(date(2026, 3, 1), date(2026, 3, 31))
    dense = read_dense(grid, [one.pk, two.pk])
    assert dense.energy.shape == (2, 31 * 288 - 12)
    assert np.nansum(dense.energy[1]) == 2.0 * 276 and np.nansum(dense.energy[0]) == 3.0 * 288
    assert dense.revisions[1, 28] == 1 and dense.revisions[0, 28] == 0
    assert np.isfinite(dense.energy[1, grid.day_slice(spring)]).all()


def test_cli_import(make_contract, tmp_path):
    make_contract("BOA1")
    path = tmp_path / "c.csv"
    path.write_bytes(csv_of(day_rows("BOA1", DAY)))
    call_command("curves", "import", str(path))
    assert CurveImport.objects.get().source == "c.csv"
    path.write_bytes(csv_of([("NOPE", iso(next(steps(DAY))), 1)]))
    with pytest.raises(CommandError, match="line 2: unknown contract"):
        call_command("curves", "import", str(path))
    with pytest.raises(CommandError, match="no such file"):
        call_command("curves", "import", str(tmp_path / "missing.csv"))


def test_a_lone_error_is_reported_with_its_line(make_contract):
    """Each kind of error alone (the fast validation path gives way to the detailed one)."""
    make_contract("BOA1")
    good = day_rows("BOA1", DAY)
    cases = [
        ([*good[:2], good[0]], "line 4: duplicate step"),
        ([("BOA1", "2025-09-22T00:10:00+01:00", 1)], "line 2: wrong UTC offset"),
        ([good[0], ("BOA1", "2025-09-22T00:07:00+02:00", 1)], "line 3: start is not on a 5-minute boundary"),
        ([good[0], ("BOA1", good[1][1], "nan")], "line 3: energy is not a number"),
        ([good[0], ("BOA1", good[1][1], "inf")], "line 3: energy is not a number"),
        ([good[0], ("", good[1][1], 1)], "line 3: unknown contract"),
    ]
    for rows, expected in cases:
        with pytest.raises(CurveImportError, match=expected):
            do_import(csv_of(rows))
    assert CurveImport.objects.count() == 0 and CurveMonth.objects.count() == 0


def test_values_come_back_exactly(make_contract, tmp_path):
    make_contract("BOA1", power="2000")  # up to 250,000 kWh per step
    moments = list(steps(DAY))
    values = np.random.default_rng(7).uniform(0, 200_000, len(moments))
    values[3] = 123456.789
    frame = pl.DataFrame(
        {
            "contract_id": ["BOA1"] * len(moments),
            "start": pl.Series([m.astimezone(UTC) for m in moments]).dt.convert_time_zone("Europe/Paris"),
            "energy_kwh": values,
        }
    )
    frame.write_parquet(tmp_path / "c.parquet")
    do_import(tmp_path / "c.parquet")
    stored = CurveMonth.objects.get()
    assert bytes(stored.values)[0] == codec.KWH_FLOAT64
    assert stored.array()[AT_DAY : AT_DAY + 288].tobytes() == values.tobytes()


def test_the_recorded_sha256_is_the_files(make_contract, tmp_path):
    make_contract("BOA1")
    path = tmp_path / "c.csv"
    path.write_bytes(csv_of(day_rows("BOA1", DAY)))
    imported = do_import(path)
    assert imported.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", [CurveKind.REALISED, CurveKind.PRODUCIBLE])
def test_energy_above_what_the_installation_can_produce_is_refused(make_contract, settings, kind):
    make_contract("BOA1", power="4.5")  # 375 kWh in 5 minutes at full power
    good = day_rows("BOA1", DAY, lambda i: 562.5)  # 150 %
    assert import_curves(csv_of(good), source_name="ok.csv", actor="test", kind=kind).rows == 288
    with pytest.raises(CurveImportError) as caught:
        import_curves(csv_of([("BOA1", good[0][1], "1e300")]), source_name="x.csv", actor="test", kind=kind)
    assert str(caught.value) == (
        "nothing was imported (errors: 1):\nline 2: energy 1e+300 kWh exceeds the 562.5 kWh a 4.5 MW installation "
        "can produce in 5 minutes (limit 150 %) (BOA1, 2025-09-22T00:00:00+02:00, 1e300)"
    )
    with translation.override("fr"):  # for people: French, numbers written the French way
        assert error_text(caught.value) == (
            "Rien n'a été importé (erreurs : 1) :\nligne 2 : l'énergie de 1e+300 kWh dépasse les 562,5 kWh qu'une "
            "installation de 4,5 MW peut produire en 5 minutes (limite 150 %) (BOA1, 2025-09-22T00:00:00+02:00, 1e300)"
        )
    settings.SMARTOA_CURVE_MAX_RATIO = 1.2
    with pytest.raises(CurveImportError, match=r"line 2: energy 562.5 kWh exceeds the 450 kWh .* \(limit 120 %\)"):
        import_curves(csv_of(good[:1]), source_name="x.csv", actor="test", kind=kind)
    assert CurveImport.objects.count() == 1


def test_cli_help_documents_the_file_format(capsys):
    with pytest.raises(SystemExit):
        call_command("curves", "--help")
    shown = capsys.readouterr().out
    assert "contract_id,start,energy_kwh" in shown and "2026-03-29T03:00:00+02:00" in shown
    assert "convention commençante" in shown and "SMARTOA_CURVE_MAX_RATIO" in shown


def test_cli_refuses_an_impossible_energy(make_contract, tmp_path):
    make_contract("BOA1")
    path = tmp_path / "c.csv"
    path.write_bytes(csv_of([("BOA1", iso(next(steps(DAY))), 5000)]))
    with pytest.raises(CommandError, match="line 2: energy 5000 kWh exceeds the 1875 kWh a 15 MW installation"):
        call_command("curves", "import", str(path))
    assert not CurveImport.objects.exists()
