"""Realised-curve import (CSV or Parquet, read with polars), storage per contract-day revision, dense read-back.

Callers own the transaction. ``import_curves`` is all or nothing: any bad row refuses the whole file, and the
error lists the rows (1-based data rows for Parquet, file line numbers for CSV, the header being line 1).
"""

from __future__ import annotations

import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl
from django.db import connection

from smartoa.audit.services import record
from smartoa.contracts.models import Contract
from smartoa.core.clock import now
from smartoa.domain.curves import (
    STEP_SECONDS,
    Grid,
    MonthGrid,
    local_days_of,
    paris_offsets,
)
from smartoa.metering import codec
from smartoa.metering.models import CurveHistory, CurveImport, CurveKind, CurveMonth

COLUMNS = ("contract_id", "start", "energy_kwh")
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
MAX_ERRORS_SHOWN = 50
PIECE_ROWS = 1 << 20
THREADS = min(os.cpu_count() or 1, 8)
BATCH = 500
MAX_CELLS = 1_500_000_000  # dense contract × month-step cells one import may lay out (6 GB as int32)


class CurveImportError(ValueError):
    """A curve file refused; the message lists what is wrong, row by row. Nothing was stored."""


class _NotWholeWh(Exception):
    """Some energy is not a whole number of Wh: lay the file out in float64 instead."""


@dataclass
class ParsedCurves:
    """A validated file as dense contract rows over whole months: ``values[c]`` is ``contract_pk[c]``'s row on
    ``grid.grid`` as int32 Wh (-1 = not given) or float64 kWh (NaN = not given); month ``m`` is its slice
    ``grid.month_starts[m]:grid.month_starts[m + 1]``, and ``present[c, m]`` counts the steps given in it.
    ``first_day``/``last_day`` bound the data."""

    grid: MonthGrid
    contract_pk: np.ndarray
    values: np.ndarray
    present: np.ndarray
    rows: int
    first_day: date
    last_day: date

    def month(self, c: int, m: int) -> np.ndarray:
        return self.values[c, self.grid.month_starts[m] : self.grid.month_starts[m + 1]]


# --- reading -------------------------------------------------------------------------------------------------


def _read_frame(source) -> tuple[pl.DataFrame, bool]:
    """Read ``source`` (a path or bytes) into a frame; returns (frame, is_parquet)."""
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            is_parquet = handle.read(4) == b"PAR1"
    else:
        is_parquet = bytes(source[:4]) == b"PAR1"
        source = io.BytesIO(source)
    try:
        if is_parquet:
            frame = pl.read_parquet(source)
        else:
            frame = pl.read_csv(
                source,
                schema_overrides={"contract_id": pl.Categorical, "start": pl.String, "energy_kwh": pl.String},
                infer_schema_length=0,
            )
    except Exception as exc:  # noqa: BLE001 - polars/pyarrow raise many types for a malformed file
        kind = "Parquet" if is_parquet else "CSV"
        raise CurveImportError(f"not a readable {kind} file: {exc}") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise CurveImportError(
            f"missing column(s): {', '.join(missing)} (expected contract_id,start,energy_kwh; found "
            f"{','.join(frame.columns)})"
        )
    return frame.select(COLUMNS), is_parquet


def file_sha256(source) -> str:
    digest = hashlib.sha256()
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
    else:
        digest.update(source)
    return digest.hexdigest()


# --- validation ----------------------------------------------------------------------------------------------


class _Errors:
    """Rows in error, by check; reported in row order, at most MAX_ERRORS_SHOWN lines."""

    def __init__(self):
        self.found: list[tuple[np.ndarray, str]] = []

    def add(self, rows: np.ndarray, message: str) -> None:
        if rows.size:
            self.found.append((rows.astype(np.int64), message))

    def __bool__(self):
        return bool(self.found)

    def report(self, frame: pl.DataFrame, is_parquet: bool) -> str:
        total = sum(rows.size for rows, _ in self.found)
        lines = []
        for rows, message in self.found:
            for row in rows[:MAX_ERRORS_SHOWN]:
                lines.append((int(row), message))
        lines.sort()
        shown = lines[:MAX_ERRORS_SHOWN]
        picked = frame[[r for r, _ in shown]].cast(pl.String).rows() if shown else []
        label = "row" if is_parquet else "line"
        delta = 1 if is_parquet else 2
        text = [
            f"{label} {r + delta}: {message} ({', '.join('' if v is None else v for v in values)})"
            for (r, message), values in zip(shown, picked, strict=True)
        ]
        more = f"\n… and {total - len(shown)} more" if total > len(shown) else ""
        return f"{total} error(s), nothing was imported:\n" + "\n".join(text) + more


def _contract_rows(column: pl.Series, known: dict[str, int]) -> np.ndarray:
    """Index into the known contracts for every row (-1: unknown or empty), via the categorical codes."""
    if column.dtype == pl.String:
        column = column.cast(pl.Categorical)
    if column.dtype != pl.Categorical:
        raise CurveImportError("contract_id must be text")
    distinct = column.drop_nulls().unique()
    codes = distinct.to_physical().to_numpy()
    table = np.full(int(codes.max()) + 2 if codes.size else 1, -1, dtype=np.int32)
    for code, text in zip(codes, distinct.cast(pl.String).to_list(), strict=True):
        table[code] = known.get(text, -1)
    physical = column.to_physical().fill_null(table.size - 1).to_numpy()
    return table[physical]


def _instants(frame: pl.DataFrame, errors: _Errors) -> tuple[np.ndarray, int]:
    """Instants as integers (units per second returned) with bad rows reported; bad rows get the minimum."""
    column = frame["start"]
    if isinstance(column.dtype, pl.Datetime):
        if column.dtype.time_zone is None:
            raise CurveImportError("start has no time zone: give ISO text with offset or aware timestamps")
        per_second = {"ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[column.dtype.time_unit]
        raw = column.to_physical()
        if raw.null_count():
            errors.add(np.flatnonzero(raw.is_null().to_numpy()), "missing start")
            raw = raw.fill_null(raw.min())
        return raw.to_numpy(), per_second
    if column.dtype != pl.String:
        raise CurveImportError("start must be ISO 8601 text with offset or an aware timestamp")
    parsed = frame.select(
        at=pl.col("start").str.to_datetime(ISO_FORMAT, strict=False, time_unit="us").dt.epoch("us"),
        shape_ok=(pl.col("start").str.len_bytes() == 25) & (pl.col("start").str.slice(22, 1) == ":"),
        offset=pl.col("start").str.slice(19, 1).replace_strict({"+": 1, "-": -1}, default=0, return_dtype=pl.Int64)
        * (
            pl.col("start").str.slice(20, 2).cast(pl.Int64, strict=False) * 3600
            + pl.col("start").str.slice(23, 2).cast(pl.Int64, strict=False) * 60
        ),
    )
    bad = (parsed["at"].is_null() | ~parsed["shape_ok"].fill_null(False)).to_numpy()
    errors.add(np.flatnonzero(bad), "start is not an ISO date-time with offset YYYY-MM-DDTHH:MM:SS+HH:MM")
    at = parsed["at"].fill_null(0).to_numpy()
    good = np.flatnonzero(~bad)
    if good.size:
        given = parsed["offset"].fill_null(0).to_numpy()[good]
        expected = paris_offsets(at[good] // 1_000_000)
        errors.add(good[given != expected], "wrong UTC offset for Europe/Paris at that instant")
        if good.size < at.size:
            at = at.copy()
            at[bad] = at[good].min()
    return at, 1_000_000


def _energies(frame: pl.DataFrame, errors: _Errors) -> np.ndarray:
    column = frame["energy_kwh"]
    if column.dtype == pl.String:
        column = column.str.strip_chars()
        missing = column.is_null() | (column == "")
        values = column.cast(pl.Float64, strict=False)
        not_number = values.is_null() & ~missing
    elif column.dtype.is_numeric():
        missing = column.is_null()
        values = column.cast(pl.Float64)
        not_number = pl.Series(np.zeros(column.len(), dtype=bool))
    else:
        raise CurveImportError("energy_kwh must be numbers")
    array = values.fill_null(0.0).to_numpy()
    errors.add(np.flatnonzero(missing.to_numpy()), "missing energy")
    errors.add(np.flatnonzero(not_number.to_numpy() | ~np.isfinite(array)), "energy is not a number")
    with np.errstate(invalid="ignore"):
        errors.add(np.flatnonzero(array < 0), "negative energy")
    return array


def _pieces(series: pl.Series, size: int = PIECE_ROWS) -> list[tuple[int, int]]:
    """Row ranges of at most ``size`` rows that stay within the series' chunks (so reading them is zero-copy)."""
    pieces, a = [], 0
    for length in series.chunk_lengths():
        for b in range(a, a + length, size):
            pieces.append((b, min(b + size, a + length)))
        a += length
    return pieces


def _start_instants(frame: pl.DataFrame) -> tuple[pl.Series, pl.Series | None, int] | None:
    """The start column as integer instants (with the written UTC offsets for text), and the units per second;
    None if anything is missing or malformed."""
    start = frame["start"]
    if isinstance(start.dtype, pl.Datetime):
        if start.dtype.time_zone is None or start.null_count():
            return None
        per_second = {"ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[start.dtype.time_unit]
        return start.to_physical(), None, per_second
    if start.dtype != pl.String:
        return None
    # The wall-clock part parsed without %z (3× faster) minus the written offset; the offset itself is then
    # checked against Europe/Paris, so only rows the full check accepts get through.
    text = pl.col("start")
    offset = (
        pl.when(text.str.slice(19, 1) == "-").then(-1).otherwise(1)
        * (
            text.str.slice(20, 2).cast(pl.Int32, strict=False) * 3600
            + text.str.slice(23, 2).cast(pl.Int32, strict=False) * 60
        )
    ).cast(pl.Int32)
    parsed = frame.select(
        at=text.str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us").dt.epoch("us")
        - offset.cast(pl.Int64) * 1_000_000,
        ok=(text.str.len_bytes() == 25) & (text.str.slice(22, 1) == ":") & text.str.slice(19, 1).is_in(["+", "-"]),
        offset=offset,
    )
    if parsed["at"].null_count() or parsed["offset"].null_count() or not parsed["ok"].all():
        return None
    return parsed["at"], parsed["offset"], 1_000_000


def _parse_fast(frame: pl.DataFrame, pks: np.ndarray, row_of: dict[str, int], whole_wh: bool) -> ParsedCurves | None:
    """Validate and lay out a file in two multi-threaded passes over pieces of rows, without naming bad rows:
    None as soon as anything is wrong (the caller then runs ``_parse_checked``, which reports every bad row).
    ``whole_wh``: lay out int32 Wh, raising _NotWholeWh if an energy is not a whole number of Wh."""
    rows = frame.height
    ids, energy = frame["contract_id"], frame["energy_kwh"]
    if ids.dtype not in (pl.String, pl.Categorical):
        return None
    instants = _start_instants(frame)
    if instants is None:
        return None
    instants, offsets, per_second = instants
    if energy.dtype == pl.String:
        energy = energy.str.strip_chars().cast(pl.Float64, strict=False)
    elif energy.dtype.is_numeric():
        energy = energy.cast(pl.Float64)
    else:
        return None
    if energy.null_count():
        return None

    low, high = int(instants.min()), int(instants.max())
    first_day, last_day = local_days_of(low // per_second, high // per_second)
    grid = MonthGrid.covering(first_day, last_day)
    n_steps = grid.grid.n_steps
    base = grid.grid.origin * per_second
    per_step = STEP_SECONDS * per_second
    if offsets is not None:
        per_hour = 3600 * per_second
        hour_offsets = paris_offsets(np.arange(low // per_hour, high // per_hour + 1, dtype=np.int64) * 3600)
        hour_offsets = hour_offsets.astype(np.int32)
    work = pl.DataFrame(
        [ids.alias("id"), instants.alias("t"), energy.alias("e")]
        + ([offsets.alias("offset")] if offsets is not None else [])
    )
    if ids.dtype == pl.String:
        known_ids = pl.Series(list(row_of), dtype=pl.String)
    else:
        known_ids = pl.Series(list(row_of), dtype=pl.String).cast(ids.dtype)
    known_rows = pl.Series(list(row_of.values()), dtype=pl.Int32)
    pieces = _pieces(work["t"])

    def contract_runs(piece: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
        """The known-contract index and length of each run of equal ids in the piece."""
        a, b = piece
        runs = work["id"].slice(a, b - a).rle()
        names = runs.struct.field("value")
        if names.null_count():
            return None
        if names.len() <= 4096:
            codes = np.fromiter((row_of.get(n, -1) for n in names.cast(pl.String).to_list()), np.int32, names.len())
        else:
            codes = names.replace_strict(known_ids, known_rows, default=-1, return_dtype=pl.Int32).to_numpy()
        if codes.min() < 0:
            return None
        return codes, runs.struct.field("len").to_numpy()

    with ThreadPoolExecutor(THREADS) as pool:
        runs = list(pool.map(contract_runs, pieces))
        if any(r is None for r in runs):
            return None
        in_file = np.unique(np.concatenate([codes for codes, _ in runs]))
        if in_file.size * n_steps > MAX_CELLS:
            return None
        file_row = np.full(pks.size, -1, dtype=np.int64)
        file_row[in_file] = np.arange(in_file.size)
        values = np.empty((in_file.size, n_steps), dtype=np.int32 if whole_wh else np.float64)
        blocks = range(0, in_file.size, 64)
        # Filled by the pool: the first touch of a fresh array is costly on a VM, and this spreads it.
        list(pool.map(lambda c: values[c : c + 64].fill(codec.MISSING_WH if whole_wh else np.nan), blocks))
        flat_values = values.ravel()

        def lay_out(k: int) -> bool:
            a, b = pieces[k]
            part = work.slice(a, b - a)
            e = part["e"].to_numpy()
            if not (e >= 0).all() or e.max() == np.inf:
                return False
            relative = part["t"].to_numpy() - base
            step = (relative * (1.0 / per_step)).astype(np.int64)
            if not np.array_equal(step * per_step, relative) or step.min() < 0 or step.max() >= n_steps:
                return False
            if offsets is not None:
                hours = (relative + base) // per_hour - low // per_hour
                if not np.array_equal(hour_offsets[hours], part["offset"].to_numpy()):
                    return False
            codes, lengths = runs[k]
            cell = np.repeat(file_row[codes] * n_steps, lengths)
            cell += step
            if whole_wh:
                wh = np.multiply(e, 1000.0)
                np.rint(wh, out=wh)
                if (wh > codec.MAX_WH).any() or not np.array_equal(wh / 1000.0, e):
                    raise _NotWholeWh
                flat_values[cell] = wh
            else:
                flat_values[cell] = e
            return True

        if not all(pool.map(lay_out, range(len(pieces)))):
            return None
        starts = grid.month_starts[:-1]

        def count(c: int) -> np.ndarray:
            part = values[c : c + 64]
            return np.add.reduceat(codec.given(part), starts, axis=1)

        present = np.concatenate(list(pool.map(count, blocks)))
    if int(present.sum()) != rows:  # a duplicate step
        return None
    return ParsedCurves(
        grid=grid,
        contract_pk=pks[in_file],
        values=values,
        present=present,
        rows=rows,
        first_day=first_day,
        last_day=last_day,
    )


def parse_curves(source) -> ParsedCurves:
    """Read and validate a curve file (path or bytes) into dense contract-months; CurveImportError if any row
    is bad: unknown contract, start not ISO with the Europe/Paris offset of its instant (text columns; aware
    timestamp columns carry no written offset, so that check does not apply), not on a 5-minute boundary,
    duplicate step, missing, non-numeric or negative energy."""
    frame, is_parquet = _read_frame(source)
    if frame.height == 0:
        raise CurveImportError("the file holds no data row")
    known = dict(Contract.objects.values_list("contract_id", "pk"))
    pks = np.array(sorted(known.values()) or [0], dtype=np.int64)
    position = {pk: i for i, pk in enumerate(pks.tolist())}
    row_of = {cid: position[pk] for cid, pk in known.items()}
    try:
        parsed = _parse_fast(frame, pks, row_of, whole_wh=True)
    except _NotWholeWh:
        parsed = _parse_fast(frame, pks, row_of, whole_wh=False)
    if parsed is not None:
        return parsed
    _report_errors(frame, is_parquet, row_of)
    raise CurveImportError(
        f"the file covers too many contract-months to import at once (at most {MAX_CELLS:,} contract × "
        "5-minute cells): split it by month or by contracts"
    )


def _report_errors(frame: pl.DataFrame, is_parquet: bool, row_of: dict[str, int]) -> None:
    """The row-by-row validation that names every bad row (run when the fast path finds something wrong);
    raises CurveImportError if any row is bad."""
    errors = _Errors()
    contract_row = _contract_rows(frame["contract_id"], row_of)
    errors.add(np.flatnonzero(contract_row < 0), "unknown contract")
    instants, per_second = _instants(frame, errors)
    _energies(frame, errors)
    if errors and any(msg.startswith("start is not") or msg == "missing start" for _, msg in errors.found):
        raise CurveImportError(errors.report(frame, is_parquet))
    per_step = STEP_SECONDS * per_second
    off_grid = np.flatnonzero(instants % per_step)
    errors.add(off_grid, "start is not on a 5-minute boundary")
    # Rows already in error (unknown contract, off the grid) must not pass for duplicates.
    invalid = contract_row < 0
    invalid[off_grid] = True
    keys = pl.DataFrame({"contract": contract_row, "at": instants, "invalid": invalid}).select(
        duplicate=(pl.struct("contract", "at").is_duplicated() & ~pl.struct("contract", "at").is_first_distinct())
        & ~pl.col("invalid")
    )
    errors.add(
        np.flatnonzero(keys["duplicate"].to_numpy()), "duplicate step (same contract and start as an earlier row)"
    )
    if errors:
        raise CurveImportError(errors.report(frame, is_parquet))


# --- storage ---------------------------------------------------------------------------------------------------


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


def _current_months(kind: str, pairs: set[tuple[int, date]], months: tuple[date, ...]) -> dict[tuple[int, date], tuple]:
    """The stored (id, revision, curve_import_id, steps, present, values) of the given contract-months that
    already have a curve; locked until the end of the transaction on PostgreSQL."""
    found = {}
    table = connection.ops.quote_name(CurveMonth._meta.db_table)
    month = "CAST(month AS TEXT)" if connection.vendor == "sqlite" else "month"
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    contracts = sorted({pk for pk, _ in pairs})
    with connection.cursor() as wrapper:
        for a in range(0, len(contracts), BATCH):
            batch = contracts[a : a + BATCH]
            cursor = _execute_binary(
                wrapper,
                f"SELECT id, contract_id, {month}, revision, curve_import_id, steps, present, "
                f"{connection.ops.quote_name('values')} FROM {table} "
                f"WHERE kind = %s AND month IN ({', '.join(['%s'] * len(months))}) "
                f"AND contract_id IN ({', '.join(['%s'] * len(batch))}){lock}",
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
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(MONTH_COLUMNS))})", rows)


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


def store_curves(parsed: ParsedCurves, *, kind: str, source: str, actor: str, sha256: str) -> CurveImport:
    """Store ``parsed`` month by month. A new contract-month is inserted; an existing one gets the steps given
    (the others keep their values); if any of those steps already had data, its previous array is first kept
    in CurveHistory and its revision goes up."""
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
        sha256=sha256,
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
        batches = [fresh[a : a + 500] for a in range(0, len(fresh), 500)]
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
    record(
        "curves.imported",
        actor=actor,
        kind=kind,
        source=source[:300],
        rows=parsed.rows,
        contract_days=contract_days,
        revised_days=revised_days,
        first_day=str(parsed.first_day),
        last_day=str(parsed.last_day),
        sha256=sha256,
    )
    return imported


def import_curves(source, *, source_name: str, actor: str, kind: str = CurveKind.REALISED) -> CurveImport:
    """Validate then store a curve file (path or bytes). All or nothing: CurveImportError stores nothing."""
    if kind not in CurveKind.values:
        raise CurveImportError(f"unknown curve kind {kind!r}")
    parsed = parse_curves(source)
    return store_curves(parsed, kind=kind, source=source_name, actor=actor, sha256=file_sha256(source))


# --- read-back ---------------------------------------------------------------------------------------------------


@dataclass
class DenseCurves:
    """Curves of ``contract_pks`` on ``grid`` (contract × step, NaN = missing) and, per contract-day with
    data, the revision of the contract-month it was read from (0 = no data)."""

    grid: Grid
    contract_pks: np.ndarray
    energy: np.ndarray
    revisions: np.ndarray


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
    month_sql = "CAST(month AS TEXT)" if connection.vendor == "sqlite" else "month"
    filter_sql = "curve_import_id = %s" if curve_import else "1 = 1"

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
            cursor = _execute_binary(
                wrapper,
                f"SELECT contract_id, {month_sql}, revision, steps, {connection.ops.quote_name('values')} "
                f"FROM {connection.ops.quote_name(model._meta.db_table)} WHERE kind = %s AND {filter_sql} "
                f"AND month IN ({', '.join(['%s'] * len(months.months))})",
                [kind, *([curve_import] if curve_import else []), *months.months],
            )
            # Decoding (LZ4 and numpy release the GIL) runs in the pool while this thread fetches.
            list(pool.map(place, iter(partial(cursor.fetchmany, 500), [])))
    day_month = np.array([month_of[d.replace(day=1)] for d in grid.days], dtype=np.int64)
    has_data = np.add.reduceat(~np.isnan(energy), grid.day_starts[:-1], axis=1) > 0 if pks.size else None
    revisions = month_revision[:, day_month] * has_data if pks.size else np.zeros((0, len(grid.days)), np.int32)
    return DenseCurves(grid, pks, energy, revisions.astype(np.int32))
