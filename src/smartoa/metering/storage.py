"""The curve tables: storing parsed curves per contract-month (with revision history) and reading them back
as dense contract × step arrays. Callers own the transaction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import partial

import numpy as np
from django.db import connection

from smartoa.core.clock import now
from smartoa.domain.curves import Grid, MonthGrid
from smartoa.metering import codec
from smartoa.metering.models import CurveHistory, CurveImport, CurveKind, CurveMonth
from smartoa.metering.parsing import THREADS, ParsedCurves

BATCH = 500  # contract ids per IN list, rows per insert batch
# Up to this many contracts, ``read_dense`` sends their ids (IN lists of BATCH, so at most 4 statements through
# the (contract, kind, month) index): a page about one contract reads its rows only, whatever the table holds.
# Above it, it reads the months whole (one statement) and skips the contracts not asked for, as the monthly
# compliance run asks for nearly every contract. Measured on bench/compliance's database (10,000 contracts,
# fetching a month's rows without decoding): on PostgreSQL the ids cost about 0.2 ms each (0.39 s for 2,000,
# 1.97 s for 10,000) against 0.36-0.50 s for the months whole, so the two meet near 2,000; on SQLite the ids
# are never much slower (0.011 s for 2,000, 0.047 s for 5,000, 0.088 s for 10,000; 0.08 s whole).
WHOLE_MONTHS_ABOVE = 4 * BATCH


def _execute_binary(wrapper, sql: str, params: list):
    """Run a query whose rows carry curve blobs; returns the cursor to fetch from. On PostgreSQL the raw psycopg
    cursor asks for binary results: bytea then comes as bytes, not as hex text twice its size to decode."""
    if connection.vendor == "postgresql":
        wrapper.cursor.execute(sql, params, binary=True)
        return wrapper.cursor
    wrapper.execute(sql, params)
    return wrapper


def _month_value(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _month_sql() -> str:
    """The month column as a date string on SQLite (whose DATE has no type of its own), as is elsewhere."""
    return "CAST(month AS TEXT)" if connection.vendor == "sqlite" else "month"


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _current_months(kind: str, pairs: set[tuple[int, date]], months: tuple[date, ...]) -> dict[tuple[int, date], tuple]:
    """The stored (id, revision, curve_import_id, steps, present, values) of the given contract-months that
    already have a curve; locked until the end of the transaction on PostgreSQL."""
    found = {}
    table = connection.ops.quote_name(CurveMonth._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    contracts = sorted({pk for pk, _ in pairs})
    with connection.cursor() as wrapper:
        for a in range(0, len(contracts), BATCH):
            batch = contracts[a : a + BATCH]
            cursor = _execute_binary(
                wrapper,
                f"SELECT id, contract_id, {_month_sql()}, revision, curve_import_id, steps, present, "
                f"{connection.ops.quote_name('values')} FROM {table} "
                f"WHERE kind = %s AND month IN ({_placeholders(months)}) "
                f"AND contract_id IN ({_placeholders(batch)}){lock}",
                [kind, *months, *batch],
            )
            while chunk := cursor.fetchmany(1_000):
                for i, contract_pk, month_value, revision, import_id, steps, present, blob in chunk:
                    key = (contract_pk, _month_value(month_value))
                    if key in pairs:
                        found[key] = (i, revision, import_id, steps, present, bytes(blob))
    return found


MONTH_COLUMNS = ("contract_id", "kind", "month", "revision", "curve_import_id", "steps", "present", "values")
MONTH_TYPES = ("int8", "varchar", "date", "int4", "int8", "int2", "int2", "bytea")


def _insert_months(rows: list[tuple]) -> None:
    """Insert CurveMonth rows (tuples in MONTH_COLUMNS order): binary COPY on PostgreSQL, one prepared
    statement over all the rows on SQLite."""
    table = connection.ops.quote_name(CurveMonth._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in MONTH_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(MONTH_TYPES)
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({_placeholders(MONTH_COLUMNS)})", rows)


def _encoded(kwh_or_wh: np.ndarray) -> bytes:
    """The blob of a month row: int32 Wh as is; float64 kWh as int32 Wh when that loses nothing."""
    if kwh_or_wh.dtype == np.float64:
        wh = codec.as_wh(kwh_or_wh)
        if wh is not None:
            return codec.encode(wh)
    return codec.encode(kwh_or_wh)


def _days_with_data(mask: np.ndarray, day_starts: np.ndarray) -> int:
    """How many days of a month (``day_starts`` within it) have at least one step set in ``mask``."""
    return int(np.count_nonzero(np.add.reduceat(mask, day_starts)))


def store_curves(parsed: ParsedCurves, *, kind: str, source: str, actor: str) -> CurveImport:
    """Record the import of ``parsed`` (a CurveImport) and store its curves month by month. A new contract-month
    is inserted; an existing one gets the steps given (the others keep their values); if any of those steps
    already had data, its previous array is first kept in CurveHistory and its revision goes up."""
    grid = parsed.grid
    cells = np.argwhere(parsed.present > 0)  # (contract row, month) pairs with data, contract by contract
    pks = parsed.contract_pk.tolist()
    keys = [(pks[c], grid.months[m]) for c, m in cells.tolist()]
    previous = _current_months(kind, set(keys), grid.months)
    imported = CurveImport.objects.create(
        kind=kind,
        source=source[:300],
        received_at=now(),
        actor=actor,
        sha256=parsed.sha256,
        rows=parsed.rows,
        contract_days=0,
        revised_days=0,
        first_day=parsed.first_day,
        last_day=parsed.last_day,
    )
    month_steps = grid.month_steps.tolist()
    day_starts = [grid.day_starts_in_month(m) for m in range(len(grid.months))]
    postgres = connection.vendor == "postgresql"
    month_values = [m if postgres else m.isoformat() for m in grid.months]

    def new_row(c: int, m: int) -> tuple[tuple, int]:
        values = parsed.month(c, m)
        days = _days_with_data(codec.given(values), day_starts[m])
        present = int(parsed.present[c, m])
        return (pks[c], kind, month_values[m], 1, imported.pk, month_steps[m], present, _encoded(values)), days

    fresh = [(c, m) for (c, m), key in zip(cells.tolist(), keys, strict=True) if key not in previous]
    contract_days = 0
    with ThreadPoolExecutor(THREADS) as pool:
        # Encoding (LZ4 releases the GIL) runs in the pool while this thread inserts the previous batch.
        batches = [fresh[a : a + BATCH] for a in range(0, len(fresh), BATCH)]
        for done in pool.map(lambda batch: [new_row(c, m) for c, m in batch], batches):
            _insert_months([row for row, _ in done])
            contract_days += sum(days for _, days in done)

    history, updates, revised_days = [], [], 0
    for (c, m), key in zip(cells.tolist(), keys, strict=True):
        if key not in previous:
            continue
        row_id, revision, import_id, steps, present, blob = previous[key]
        values = parsed.month(c, m)
        mask = codec.given(values)
        before = codec.decode(blob, steps)
        merged = before.copy()
        merged[mask] = codec.to_kwh(values)[mask]
        revised = mask & ~np.isnan(before)
        contract_days += _days_with_data(mask, day_starts[m])
        if revised.any():
            revised_days += _days_with_data(revised, day_starts[m])
            history.append(
                CurveHistory(
                    contract_id=key[0],
                    kind=kind,
                    month=key[1],
                    revision=revision,
                    curve_import_id=import_id,
                    replaced_by=imported,
                    steps=steps,
                    present=present,
                    values=blob,
                )
            )
            revision += 1
        updates.append(
            CurveMonth(
                id=row_id,
                revision=revision,
                curve_import=imported,
                present=int(np.count_nonzero(~np.isnan(merged))),
                values=_encoded(merged),
            )
        )
    CurveHistory.objects.bulk_create(history, batch_size=BATCH)
    CurveMonth.objects.bulk_update(updates, ["revision", "curve_import", "present", "values"], batch_size=BATCH)
    imported.contract_days, imported.revised_days = contract_days, revised_days
    imported.save(update_fields=["contract_days", "revised_days"])
    return imported


# --- read-back ---------------------------------------------------------------------------------------------------


@dataclass
class DenseCurves:
    """Curves of ``contract_pks`` on ``grid`` (contract × step, NaN = missing) and, per contract-day with
    data, the revision of the contract-month it was read from (0 = no data)."""

    grid: Grid
    contract_pks: np.ndarray
    energy: np.ndarray
    revisions: np.ndarray


def _month_queries(model, kind: str, months: tuple[date, ...], curve_import: int | None, pks: list[int]):
    """The (sql, params) reading ``model``'s rows of ``months`` for the contracts ``pks``: by groups of at most
    BATCH ids (an id range when the group is dense, else an IN list), or the months whole (one statement) when
    more than WHOLE_MONTHS_ABOVE contracts are asked (the monthly run asks for a chunk of contracts at a time,
    below it, so its memory and reads grow with the chunk, not with the table)."""
    sql = (
        f"SELECT contract_id, {_month_sql()}, revision, steps, {connection.ops.quote_name('values')} "
        f"FROM {connection.ops.quote_name(model._meta.db_table)} WHERE kind = %s "
        f"AND month IN ({_placeholders(months)})" + (" AND curve_import_id = %s" if curve_import else "")
    )
    params = [kind, *months, *([curve_import] if curve_import else [])]
    if len(pks) > WHOLE_MONTHS_ABOVE:
        return [(sql, params)]
    ids = sorted(set(pks))
    queries = []
    for a in range(0, len(ids), BATCH):
        group = ids[a : a + BATCH]
        if len(group) > 1 and group[-1] - group[0] < 2 * len(group):
            # A dense run of ids (a chunk of the monthly run): one range through the index, the few rows of
            # contracts not asked for are skipped; no id list to send and match.
            queries.append((f"{sql} AND contract_id BETWEEN %s AND %s", [*params, group[0], group[-1]]))
        else:
            queries.append((f"{sql} AND contract_id IN ({_placeholders(group)})", [*params, *group]))
    return queries


def read_dense(
    grid: Grid, contract_pks, *, kind: str = CurveKind.REALISED, curve_import: int | None = None
) -> DenseCurves:
    """The current curves of the given contracts (in that order) over ``grid``, as one dense float64 array;
    with ``curve_import``, the contract-months as that import left them (current or since revised)."""
    pks = np.asarray(list(contract_pks), dtype=np.int64)
    row_of = {pk: i for i, pk in enumerate(pks.tolist())}
    energy = np.full((pks.size, grid.n_steps), np.nan)
    months = MonthGrid.covering(grid.days[0], grid.days[-1])
    month_of = {m: i for i, m in enumerate(months.months)}
    month_revision = np.zeros((pks.size, len(months.months)), dtype=np.int32)
    shift = int(months.grid.day_starts[months.grid.day_index(grid.days[0])])
    starts = (months.month_starts - shift).tolist()
    n_steps = grid.n_steps
    tables = [CurveMonth] if curve_import is None else [CurveMonth, CurveHistory]

    def place(found: list[tuple]) -> None:
        for contract_pk, month_value, revision, steps, blob in found:
            row = row_of.get(contract_pk)
            if row is None:
                continue
            m = month_of[_month_value(month_value)]
            a = starts[m]
            values = codec.decode(blob, steps)
            lo, hi = max(a, 0), min(a + steps, n_steps)
            energy[row, lo:hi] = values[lo - a : hi - a]
            month_revision[row, m] = revision

    with connection.cursor() as wrapper, ThreadPoolExecutor(THREADS) as pool:
        for model in tables:
            for sql, params in _month_queries(model, kind, months.months, curve_import, list(row_of)):
                cursor = _execute_binary(wrapper, sql, params)
                # Decoding (LZ4 and numpy release the GIL) runs in the pool while this thread fetches.
                list(pool.map(place, iter(partial(cursor.fetchmany, 500), [])))
    day_month = np.array([month_of[d.replace(day=1)] for d in grid.days], dtype=np.int64)
    if pks.size:
        has_data = np.add.reduceat(~np.isnan(energy), grid.day_starts[:-1], axis=1) > 0
        revisions = month_revision[:, day_month] * has_data
    else:
        revisions = np.zeros((0, len(grid.days)), np.int32)
    return DenseCurves(grid, pks, energy, revisions.astype(np.int32))
