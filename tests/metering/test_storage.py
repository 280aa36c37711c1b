"""Dense read-back: a page about one contract reads that contract's rows only, however many the database holds."""

from datetime import date

import numpy as np
import pytest

from smartoa.domain.calendar import iso, steps
from smartoa.domain.curves import Grid
from smartoa.metering import storage
from smartoa.metering.models import CurveKind
from smartoa.metering.services import import_curves
from smartoa.metering.storage import read_dense

DAYS = (date(2026, 3, 31), date(2026, 4, 1))  # two months: one row per contract and month


def import_days(contract_ids, value=1.0, kind=CurveKind.REALISED):
    rows = [(c, iso(m), value) for c in contract_ids for day in DAYS for m in steps(day)]
    data = ("contract_id,start,energy_kwh\n" + "".join(f"{c},{s},{e}\n" for c, s, e in rows)).encode()
    return import_curves(data, source_name="t.csv", actor="test", kind=kind)


@pytest.fixture
def reads(monkeypatch):
    """Counts the statements read_dense sends and the rows they return."""
    counted = {"queries": 0, "rows": 0}
    execute = storage._execute_binary

    class Counting:
        def __init__(self, cursor):
            self.cursor = cursor

        def fetchmany(self, size):
            found = self.cursor.fetchmany(size)
            counted["rows"] += len(found)
            return found

    def counting_execute(wrapper, sql, params):
        counted["queries"] += 1
        return Counting(execute(wrapper, sql, params))

    monkeypatch.setattr(storage, "_execute_binary", counting_execute)

    def measure(*args, **kwargs):
        counted.update(queries=0, rows=0)
        dense = read_dense(*args, **kwargs)
        return dense, dict(counted)

    return measure


def test_one_contract_reads_the_same_whatever_the_database_holds(make_contract, reads):
    grid = Grid.for_days(*DAYS)
    one = make_contract("BOA0000")
    import_days(["BOA0000"], 2.0)
    alone, alone_reads = reads(grid, [one.pk])
    for i in range(1, 40):
        make_contract(f"BOA{i:04d}")
    import_days([f"BOA{i:04d}" for i in range(1, 40)], 3.0)
    among_many, many_reads = reads(grid, [one.pk])
    assert alone_reads == many_reads == {"queries": 1, "rows": 2}
    assert np.array_equal(alone.energy, among_many.energy) and np.nansum(among_many.energy) == 2.0 * 576
    assert among_many.revisions.tolist() == [[1, 1]]


def test_an_import_as_it_was_reads_current_and_history_for_the_contract_only(make_contract, reads):
    grid = Grid.for_days(*DAYS)
    contracts = [make_contract(f"BOA{i}") for i in range(3)]
    first = import_days([c.contract_id for c in contracts], 1.0, kind=CurveKind.PRODUCIBLE)
    import_days([c.contract_id for c in contracts], 4.0, kind=CurveKind.PRODUCIBLE)
    dense, counted = reads(grid, [contracts[1].pk], kind=CurveKind.PRODUCIBLE, curve_import=first.pk)
    assert counted == {"queries": 2, "rows": 2}  # the current months (none from that import), then history
    assert np.nansum(dense.energy) == 576.0 and dense.revisions.tolist() == [[1, 1]]


def test_many_contracts_read_the_months_whole_with_the_same_result(make_contract, reads, monkeypatch):
    grid = Grid.for_days(*DAYS)
    contracts = [make_contract(f"BOA{i}") for i in range(6)]
    import_days([c.contract_id for c in contracts[:5]], 1.5)
    asked = [c.pk for c in reversed(contracts[1:])]  # not in primary-key order, one without data
    monkeypatch.setattr(storage, "BATCH", 2)
    by_ids, by_id_reads = reads(grid, asked)
    monkeypatch.setattr(storage, "WHOLE_MONTHS_ABOVE", 3)
    whole, whole_reads = reads(grid, asked)
    assert by_id_reads == {"queries": 3, "rows": 8} and whole_reads == {"queries": 1, "rows": 10}
    assert np.array_equal(by_ids.energy, whole.energy, equal_nan=True)
    assert np.isnan(whole.energy[0]).all() and np.nansum(whole.energy[1:]) == 4 * 1.5 * 576
    assert np.array_equal(by_ids.revisions, whole.revisions)


def test_no_contract_reads_nothing(db, reads):
    dense, counted = reads(Grid.for_days(*DAYS), [])
    assert dense.energy.shape == (0, 576) and counted == {"queries": 0, "rows": 0}
