"""Realised-curve import (CSV or Parquet, read with polars), storage per contract-day revision, dense read-back.

Callers own the transaction. ``import_curves`` is all or nothing: any bad row refuses the whole file, and the
error lists the rows (1-based data rows for Parquet, file line numbers for CSV, the header being line 1).
"""

from __future__ import annotations

import hashlib
import io
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


def parse_curves(source) -> ParsedCurves:
    """Read and validate a curve file (path or bytes) into dense contract-days; CurveImportError if any row is
    bad: unknown contract, start not ISO with the Europe/Paris offset of its instant (text columns; aware
    timestamp columns carry no written offset, so that check does not apply), not on a 5-minute boundary,
    duplicate step, missing, non-numeric or negative energy."""
    frame, is_parquet = _read_frame(source)
    rows = frame.height
    if rows == 0:
        raise CurveImportError("the file holds no data row")
    errors = _Errors()
    known = dict(Contract.objects.values_list("contract_id", "pk"))
    pks = np.array(sorted(known.values()) or [0], dtype=np.int64)
    position = {pk: i for i, pk in enumerate(pks.tolist())}
    contract_row = _contract_rows(frame["contract_id"], {cid: position[pk] for cid, pk in known.items()})
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
        errors.add(np.flatnonzero(duplicated & first_seen), "duplicate step (same contract and start as an earlier row)")
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


def _current_rows(kind: str, pairs: set[tuple[int, date]], first: date, last: date) -> dict[tuple[int, date], tuple]:
    """The current (id, revision, values) of the given contract-days that already have a curve."""
    found = {}
    heads = CurveDay.objects.filter(kind=kind, current=True, day__range=(first, last)).values_list(
        "id", "contract_id", "day", "revision"
    )
    wanted = {(c, d): (i, r) for i, c, d, r in heads.iterator(chunk_size=20_000) if (c, d) in pairs}
    ids = {i: key for key, (i, _) in wanted.items()}
    id_list = list(ids)
    for a in range(0, len(id_list), BATCH):
        for i, blob in CurveDay.objects.filter(id__in=id_list[a : a + BATCH]).values_list("id", "values"):
            key = ids[i]
            found[key] = (i, wanted[key][1], np.frombuffer(bytes(blob), dtype=STEP_DTYPE))
    return found


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

    table = connection.ops.quote_name(CurveDay._meta.db_table)
    columns = ["contract_id", "kind", "day", "revision", "current", "curve_import_id", "steps", "present", "values"]
    sql = (
        f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    present_counts = (~np.isnan(parsed.values)).sum(axis=1)

    def rows():
        for i, (pk, day) in enumerate(zip(contract_pks, days, strict=True)):
            steps = int(lengths[parsed.day_index[i]])
            array = parsed.values[i, :steps]
            revision = 1
            count = int(present_counts[i])
            if (pk, day) in previous:
                _, last_revision, before = previous[(pk, day)]
                merged = before.copy()
                mask = parsed.given[i, :steps]
                merged[mask] = array[mask]
                array, revision, count = merged, last_revision + 1, int((~np.isnan(merged)).sum())
            yield (pk, kind, day, revision, True, imported.pk, steps, count, array.astype(STEP_DTYPE).tobytes())

    with connection.cursor() as cursor:
        batch = []
        for row in rows():
            batch.append(row)
            if len(batch) == 5_000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
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


def read_dense(grid: Grid, contract_pks, *, kind: str = CurveKind.REALISED, curve_import: int | None = None) -> DenseCurves:
    """The current curves of the given contracts (in that order) over ``grid``, as one dense float64 array;
    with ``curve_import``, the revisions written by that import instead of the current ones."""
    pks = np.asarray(list(contract_pks), dtype=np.int64)
    row_of = {pk: i for i, pk in enumerate(pks.tolist())}
    energy = np.full((pks.size, grid.n_steps), np.nan)
    revisions = np.zeros((pks.size, len(grid.days)), dtype=np.int32)
    first = grid.days[0]
    table = connection.ops.quote_name(CurveDay._meta.db_table)
    sql = (
        f"SELECT contract_id, day, revision, {connection.ops.quote_name('values')} FROM {table} "
        "WHERE kind = %s AND {} = %s AND day >= %s AND day <= %s"
    ).format("curve_import_id" if curve_import else "current")
    starts = grid.day_starts
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind, curve_import or True, grid.days[0], grid.days[-1]])
        while chunk := cursor.fetchmany(10_000):
            for contract_pk, day, revision, blob in chunk:
                row = row_of.get(contract_pk)
                if row is None:
                    continue
                if isinstance(day, str):
                    day = date.fromisoformat(day)
                d = (day - first).days
                energy[row, starts[d] : starts[d + 1]] = np.frombuffer(blob, dtype=STEP_DTYPE)
                revisions[row, d] = revision
    return DenseCurves(grid, pks, energy, revisions)
