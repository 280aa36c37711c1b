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
from pathlib import Path

import numpy as np
import polars as pl
from django.db import connection

from smartoa.audit.services import record
from smartoa.contracts.models import Contract
from smartoa.core.clock import now
from smartoa.domain.curves import MAX_DAY_STEPS, STEP_SECONDS, Grid, local_days_of, paris_offsets
from smartoa.metering.models import STEP_DTYPE, CurveDay, CurveImport, CurveKind

COLUMNS = ("contract_id", "start", "energy_kwh")
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
MAX_ERRORS_SHOWN = 50
CHUNK_ROWS = 4_000_000
PIECE_ROWS = 1 << 20
THREADS = min(os.cpu_count() or 1, 8)
BATCH = 500


class CurveImportError(ValueError):
    """A curve file refused; the message lists what is wrong, row by row. Nothing was stored."""


@dataclass
class ParsedCurves:
    """A validated file as dense contract-days: ``values[i]`` / ``given[i]`` belong to ``contract_pk[i]`` on
    ``grid.days[day_index[i]]`` (steps beyond a short day's length are unused)."""

    grid: Grid
    contract_pk: np.ndarray
    day_index: np.ndarray
    values: np.ndarray
    given: np.ndarray
    rows: int


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


def _parse_fast(frame: pl.DataFrame, pks: np.ndarray, row_of: dict[str, int]) -> ParsedCurves | None:
    """Validate and lay out a file in a few multi-threaded passes, without naming bad rows: None as soon as
    anything is wrong or unusual (the caller then runs ``_parse_checked``, which reports every bad row)."""
    rows = frame.height
    ids, start, energy = frame["contract_id"], frame["start"], frame["energy_kwh"]
    if ids.dtype not in (pl.String, pl.Categorical):
        return None
    offsets = None
    if isinstance(start.dtype, pl.Datetime):
        if start.dtype.time_zone is None or start.null_count():
            return None
        per_second = {"ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[start.dtype.time_unit]
        instants = start.to_physical()
    elif start.dtype == pl.String:
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
        per_second = 1_000_000
        instants, offsets = parsed["at"], parsed["offset"]
    else:
        return None
    if energy.dtype == pl.String:
        energy = energy.str.strip_chars().cast(pl.Float64, strict=False)
    elif energy.dtype.is_numeric():
        energy = energy.cast(pl.Float64)
    else:
        return None
    if energy.null_count():
        return None

    low, high = int(instants.min()), int(instants.max())
    first, last = local_days_of(low // per_second, high // per_second)
    grid = Grid.for_days(first, last)
    n_days, n_steps = len(grid.days), grid.n_steps
    if pks.size * n_days >= 2**31:
        return None
    base = grid.origin * per_second
    per_step = STEP_SECONDS * per_second
    step_day = np.repeat(np.arange(n_days, dtype=np.int32), np.diff(grid.day_starts))
    step_in_day = (np.arange(n_steps) - grid.day_starts[step_day]).astype(np.int16)
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
    present = np.zeros(pks.size * n_days, dtype=bool)
    cd = np.empty(rows, dtype=np.int32)
    in_day = np.empty(rows, dtype=np.int16)

    def first_pass(piece: tuple[int, int]) -> bool:
        a, b = piece
        part = work.slice(a, b - a)
        runs = part["id"].rle()
        names = runs.struct.field("value")
        if names.null_count():
            return False
        if names.len() <= 4096:
            codes = np.fromiter((row_of.get(n, -1) for n in names.cast(pl.String).to_list()), np.int32, names.len())
        else:
            codes = names.replace_strict(known_ids, known_rows, default=-1, return_dtype=pl.Int32).to_numpy()
        if codes.min() < 0:
            return False
        e = part["e"].to_numpy()
        if not (e >= 0).all() or e.max() == np.inf:
            return False
        relative = part["t"].to_numpy() - base
        step = (relative / float(per_step)).astype(np.int64)
        if not np.array_equal(step * per_step, relative) or step.min() < 0 or step.max() >= n_steps:
            return False
        if offsets is not None:
            hours = (relative + base) // per_hour - low // per_hour
            if not np.array_equal(hour_offsets[hours], part["offset"].to_numpy()):
                return False
        keys = np.repeat(codes * np.int32(n_days), runs.struct.field("len").to_numpy())
        keys += step_day[step]
        cd[a:b] = keys
        in_day[a:b] = step_in_day[step]
        present[keys] = True
        return True

    pieces = _pieces(work["t"])
    with ThreadPoolExecutor(THREADS) as pool:
        if not all(pool.map(first_pass, pieces)):
            return None
        compact = (np.cumsum(present, dtype=np.int64) - 1).astype(np.int32)
        contract_day = np.flatnonzero(present)
        if contract_day.size * MAX_DAY_STEPS >= 2**31:
            return None
        values = np.full((contract_day.size, MAX_DAY_STEPS), np.nan)
        given = np.zeros((contract_day.size, MAX_DAY_STEPS), dtype=bool)
        flat_values, flat_given = values.ravel(), given.ravel()

        def second_pass(piece: tuple[int, int]) -> None:
            a, b = piece
            flat = compact[cd[a:b]] * np.int32(MAX_DAY_STEPS)
            flat += in_day[a:b]
            flat_given[flat] = True
            flat_values[flat] = work["e"][a:b].to_numpy()

        list(pool.map(second_pass, pieces))
    if np.count_nonzero(given) != rows:  # a duplicate step
        return None
    return ParsedCurves(
        grid=grid,
        contract_pk=pks[contract_day // n_days],
        day_index=contract_day % n_days,
        values=values,
        given=given,
        rows=rows,
    )


def parse_curves(source) -> ParsedCurves:
    """Read and validate a curve file (path or bytes) into dense contract-days; CurveImportError if any row is
    bad: unknown contract, start not ISO with the Europe/Paris offset of its instant (text columns; aware
    timestamp columns carry no written offset, so that check does not apply), not on a 5-minute boundary,
    duplicate step, missing, non-numeric or negative energy."""
    frame, is_parquet = _read_frame(source)
    if frame.height == 0:
        raise CurveImportError("the file holds no data row")
    known = dict(Contract.objects.values_list("contract_id", "pk"))
    pks = np.array(sorted(known.values()) or [0], dtype=np.int64)
    position = {pk: i for i, pk in enumerate(pks.tolist())}
    row_of = {cid: position[pk] for cid, pk in known.items()}
    parsed = _parse_fast(frame, pks, row_of)
    if parsed is not None:
        return parsed
    return _parse_checked(frame, is_parquet, pks, row_of)


def _parse_checked(frame: pl.DataFrame, is_parquet: bool, pks: np.ndarray, row_of: dict[str, int]) -> ParsedCurves:
    """The row-by-row validation that names every bad row (run when the fast path finds something wrong)."""
    rows = frame.height
    errors = _Errors()
    contract_row = _contract_rows(frame["contract_id"], row_of)
    errors.add(np.flatnonzero(contract_row < 0), "unknown contract")
    instants, per_second = _instants(frame, errors)
    energy = _energies(frame, errors)
    if errors and any(msg.startswith("start is not") or msg == "missing start" for _, msg in errors.found):
        raise CurveImportError(errors.report(frame, is_parquet))

    first, last = local_days_of(int(instants.min()) // per_second, int(instants.max()) // per_second)
    grid = Grid.for_days(first, last)
    base = grid.origin * per_second
    per_step = STEP_SECONDS * per_second
    n_days = len(grid.days)
    present = np.zeros(pks.size * n_days, dtype=bool)
    cd = np.empty(rows, dtype=np.int32)
    in_day = np.empty(rows, dtype=np.int16)
    off_grid = []
    for a in range(0, rows, CHUNK_ROWS):
        b = min(a + CHUNK_ROWS, rows)
        relative = instants[a:b] - base
        step = (relative / float(per_step)).astype(np.int64)
        off_grid.append(np.flatnonzero(step * per_step != relative) + a)
        day = np.searchsorted(grid.day_starts, step, side="right") - 1
        in_day[a:b] = step - grid.day_starts[day]
        cd[a:b] = np.maximum(contract_row[a:b], 0) * np.int32(n_days) + day
        present[cd[a:b]] = True
    off_grid = np.concatenate(off_grid)
    errors.add(off_grid, "start is not on a 5-minute boundary")
    del instants

    compact = (np.cumsum(present, dtype=np.int64) - 1).astype(np.int32)
    contract_day = np.flatnonzero(present)
    if contract_day.size * MAX_DAY_STEPS >= 2**31:
        raise CurveImportError("file too large: split it (at most 7 million contract-days per import)")
    values = np.full((contract_day.size, MAX_DAY_STEPS), np.nan)
    given = np.zeros((contract_day.size, MAX_DAY_STEPS), dtype=bool)
    flat = np.empty(rows, dtype=np.int32)
    for a in range(0, rows, CHUNK_ROWS):
        b = min(a + CHUNK_ROWS, rows)
        flat[a:b] = compact[cd[a:b]] * np.int32(MAX_DAY_STEPS) + in_day[a:b]
    del cd
    given.ravel()[flat] = True
    if int(given.sum()) != rows:
        # Rows already in error (unknown contract, off the grid) must not pass for duplicates.
        keys = flat.astype(np.int64)
        invalid = contract_row < 0
        invalid[off_grid] = True
        keys[invalid] = -1 - np.flatnonzero(invalid)
        duplicated = pl.Series(keys).is_duplicated().to_numpy()
        first_seen = ~pl.Series(keys).is_first_distinct().to_numpy()
        errors.add(
            np.flatnonzero(duplicated & first_seen), "duplicate step (same contract and start as an earlier row)"
        )
    if errors:
        raise CurveImportError(errors.report(frame, is_parquet))
    values.ravel()[flat] = energy
    return ParsedCurves(
        grid=grid,
        contract_pk=pks[contract_day // n_days],
        day_index=contract_day % n_days,
        values=values,
        given=given,
        rows=rows,
    )


# --- storage ---------------------------------------------------------------------------------------------------


def _execute_binary(wrapper, sql: str, params: list):
    """Run a query whose rows carry curve blobs; returns the cursor to fetch from. On PostgreSQL the raw psycopg
    cursor asks for binary results: bytea then comes as bytes, not as hex text twice its size to decode."""
    if connection.vendor == "postgresql":
        wrapper.cursor.execute(sql, params, binary=True)
        return wrapper.cursor
    wrapper.execute(sql, params)
    return wrapper


def _current_rows(kind: str, pairs: set[tuple[int, date]], first: date, last: date) -> dict[tuple[int, date], tuple]:
    """The current (id, revision, values) of the given contract-days that already have a curve."""
    found = {}
    table = connection.ops.quote_name(CurveDay._meta.db_table)
    day = "CAST(day AS TEXT)" if connection.vendor == "sqlite" else "day"
    contracts = sorted({pk for pk, _ in pairs})
    with connection.cursor() as wrapper:
        for a in range(0, len(contracts), BATCH):
            batch = contracts[a : a + BATCH]
            cursor = _execute_binary(
                wrapper,
                f"SELECT id, contract_id, {day}, revision, {connection.ops.quote_name('values')} FROM {table} "
                f"WHERE kind = %s AND current = %s AND day >= %s AND day <= %s "
                f"AND contract_id IN ({', '.join(['%s'] * len(batch))})",
                [kind, True, first, last, *batch],
            )
            while chunk := cursor.fetchmany(10_000):
                for i, contract_pk, day_value, revision, blob in chunk:
                    if isinstance(day_value, str):
                        day_value = date.fromisoformat(day_value)
                    key = (contract_pk, day_value)
                    if key in pairs:
                        found[key] = (i, revision, np.frombuffer(bytes(blob), dtype=STEP_DTYPE))
    return found


CURVE_DAY_COLUMNS = (
    "contract_id",
    "kind",
    "day",
    "revision",
    "current",
    "curve_import_id",
    "steps",
    "present",
    "values",
)
CURVE_DAY_TYPES = ("int8", "varchar", "date", "int4", "bool", "int8", "int2", "int2", "bytea")


def _write_curve_days(rows, postgres: bool) -> None:
    """Insert ``rows`` (tuples in CURVE_DAY_COLUMNS order): binary COPY on PostgreSQL, one prepared statement
    run over all the rows on SQLite."""
    table = connection.ops.quote_name(CurveDay._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in CURVE_DAY_COLUMNS)
    with connection.cursor() as cursor:
        if postgres:
            raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(CURVE_DAY_TYPES)
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(CURVE_DAY_COLUMNS))})", rows
            )


def store_curves(parsed: ParsedCurves, *, kind: str, source: str, actor: str, sha256: str) -> CurveImport:
    """Store each contract-day of ``parsed`` as a new current revision; the previous current one (if any)
    becomes history. A partial day is merged into its previous revision: the steps given win, the other steps
    keep the previous revision's values (NaN where there was none)."""
    grid = parsed.grid
    lengths = np.diff(grid.day_starts)
    days = [grid.days[i] for i in parsed.day_index.tolist()]
    contract_pks = parsed.contract_pk.tolist()
    previous = _current_rows(kind, set(zip(contract_pks, days, strict=True)), grid.days[0], grid.days[-1])
    imported = CurveImport.objects.create(
        kind=kind,
        source=source[:300],
        received_at=now(),
        actor=actor,
        sha256=sha256,
        rows=parsed.rows,
        contract_days=len(days),
        revised_days=len(previous),
        first_day=grid.days[0],
        last_day=grid.days[-1],
    )
    old_ids = [entry[0] for entry in previous.values()]
    for a in range(0, len(old_ids), BATCH):
        CurveDay.objects.filter(id__in=old_ids[a : a + BATCH]).update(current=False)

    lengths = lengths[parsed.day_index]
    present_counts = np.count_nonzero(parsed.given, axis=1)
    values = parsed.values if parsed.values.dtype == STEP_DTYPE else parsed.values.astype(STEP_DTYPE)
    postgres = connection.vendor == "postgresql"
    # SQLite stores dates as ISO text: give it the text (one string per day) rather than a date to adapt.
    day_values = [d if postgres else d.isoformat() for d in grid.days]
    import_pk = imported.pk

    def rows():
        for i, (pk, d, steps, count) in enumerate(
            zip(contract_pks, parsed.day_index.tolist(), lengths.tolist(), present_counts.tolist(), strict=True)
        ):
            key = (pk, grid.days[d])
            if key not in previous:
                yield (pk, kind, day_values[d], 1, True, import_pk, steps, count, values[i, :steps].tobytes())
                continue
            _, last_revision, before = previous[key]
            merged = before.copy()
            mask = parsed.given[i, :steps]
            merged[mask] = values[i, :steps][mask]
            yield (
                pk,
                kind,
                day_values[d],
                last_revision + 1,
                True,
                import_pk,
                steps,
                int(np.count_nonzero(~np.isnan(merged))),
                merged.astype(STEP_DTYPE).tobytes(),
            )

    def new_rows():
        # Each contract-day's values are its row of the validated array as it is: a view, no copy.
        buffer = memoryview(np.ascontiguousarray(values)).cast("B")
        width = MAX_DAY_STEPS * STEP_DTYPE.itemsize
        for pk, d, steps, count, offset in zip(
            contract_pks,
            parsed.day_index.tolist(),
            lengths.tolist(),
            present_counts.tolist(),
            range(0, width * len(contract_pks), width),
            strict=True,
        ):
            yield (
                pk,
                kind,
                day_values[d],
                1,
                True,
                import_pk,
                steps,
                count,
                buffer[offset : offset + steps * STEP_DTYPE.itemsize],
            )

    _write_curve_days(rows() if previous else new_rows(), postgres)
    record(
        "curves.imported",
        actor=actor,
        kind=kind,
        source=source[:300],
        rows=parsed.rows,
        contract_days=len(days),
        revised_days=len(previous),
        first_day=str(grid.days[0]),
        last_day=str(grid.days[-1]),
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
    """Curves of ``contract_pks`` on ``grid`` (contract × step, NaN = missing) and the revision used per
    contract-day (0 = no curve)."""

    grid: Grid
    contract_pks: np.ndarray
    energy: np.ndarray
    revisions: np.ndarray


def read_dense(
    grid: Grid, contract_pks, *, kind: str = CurveKind.REALISED, curve_import: int | None = None
) -> DenseCurves:
    """The current curves of the given contracts (in that order) over ``grid``, as one dense float64 array;
    with ``curve_import``, the revisions written by that import instead of the current ones."""
    pks = np.asarray(list(contract_pks), dtype=np.int64)
    row_of = {pk: i for i, pk in enumerate(pks.tolist())}
    energy = np.full((pks.size, grid.n_steps), np.nan)
    revisions = np.zeros((pks.size, len(grid.days)), dtype=np.int32)
    n_days, n_steps = len(grid.days), grid.n_steps
    day_of = {d: i for i, d in enumerate(grid.days)} | {d.isoformat(): i for i, d in enumerate(grid.days)}
    starts = grid.day_starts.tolist()
    table = connection.ops.quote_name(CurveDay._meta.db_table)
    # SQLite: the day as its stored text (Django's per-row date converter costs more than the rest).
    day = "CAST(day AS TEXT)" if connection.vendor == "sqlite" else "day"
    sql = (
        f"SELECT contract_id, {day}, revision, {connection.ops.quote_name('values')} FROM {table} "
        "WHERE kind = %s AND {} = %s AND day >= %s AND day <= %s"
    ).format("curve_import_id" if curve_import else "current")
    flat = energy.ravel()
    flat_revisions = revisions.ravel()
    with connection.cursor() as wrapper:
        cursor = _execute_binary(wrapper, sql, [kind, curve_import or True, grid.days[0], grid.days[-1]])
        while chunk := cursor.fetchmany(10_000):
            for contract_pk, day_value, revision, blob in chunk:
                row = row_of.get(contract_pk)
                if row is None:
                    continue
                d = day_of[day_value]
                at = row * n_steps + starts[d]
                flat[at : at + starts[d + 1] - starts[d]] = np.frombuffer(blob, dtype=STEP_DTYPE)
                flat_revisions[row * n_days + d] = revision
    return DenseCurves(grid, pks, energy, revisions)
