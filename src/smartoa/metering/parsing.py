"""Curve files (CSV or Parquet ``contract_id,start,energy_kwh``) read, validated and laid out as dense
contract × month arrays. No database: what the checks need from it comes in as ``KnownContracts``.

A file is read once: its bytes are hashed (in a thread) while polars parses them. Validation runs in two
passes. The fast one, multi-threaded over pieces of rows, lays the file out and only says whether anything is
wrong; when it is, the reporting one names every bad row (1-based data rows for Parquet, file line numbers for
CSV, the header being line 1) and the file is refused whole.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import polars as pl
from django.utils.translation import gettext_noop

from smartoa.domain.calendar import FIRST_DAY, LAST_DAY, local_midnight
from smartoa.domain.compliance import installed_step_kwh
from smartoa.domain.curves import STEP_SECONDS, MonthGrid, epoch_seconds, local_days_of, paris_offsets
from smartoa.domain.errors import InvalidInput, UserError, more
from smartoa.metering import codec

COLUMNS = ("contract_id", "start", "energy_kwh")
MAX_ERRORS_SHOWN = 50
PIECE_ROWS = 1 << 20
THREADS = min(os.cpu_count() or 1, 8)
MAX_CELLS = 1_500_000_000  # dense contract × month-step cells one import may lay out (6 GB as int32)
PER_SECOND = {"ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


class CurveImportError(InvalidInput):
    """A curve file refused; the message lists what is wrong, row by row. Nothing was stored."""


BAD_TEXT_START = CurveImportError(gettext_noop("start is not an ISO date-time with offset YYYY-MM-DDTHH:MM:SS+HH:MM"))
MISSING_START = CurveImportError(gettext_noop("missing start"))
# Epoch seconds of the first instant handled and of the first one after them.
HANDLED = (epoch_seconds(local_midnight(FIRST_DAY)), epoch_seconds(local_midnight(LAST_DAY + timedelta(days=1))))
OUTSIDE_DAYS = CurveImportError(
    gettext_noop("start is outside the days handled (%(first)s to %(last)s)"), first=FIRST_DAY, last=LAST_DAY
)


class _NotWholeWh(Exception):
    """Some energy is not a whole number of Wh: lay the file out in float64 instead."""


@dataclass(frozen=True)
class KnownContracts:
    """The contracts a file may name: ``row_of[contract_id]`` is a contract's row, ``pks[row]`` its primary key
    (rows in primary-key order), ``power_mw[row]`` its installed power and ``max_kwh[row]`` the most energy
    accepted in one step: the installed power's energy in 5 minutes × ``max_ratio``."""

    row_of: dict[str, int]
    pks: np.ndarray
    power_mw: np.ndarray
    max_ratio: float
    max_kwh: np.ndarray

    @classmethod
    def of(cls, contracts: Iterable[tuple[str, int, Decimal | float]], *, max_ratio: float) -> KnownContracts:
        """From (contract_id, pk, installed power in MW) triples."""
        by_pk = sorted((pk, cid, float(power)) for cid, pk, power in contracts)
        pks = np.array([pk for pk, _, _ in by_pk] or [0], dtype=np.int64)
        power = np.array([p for _, _, p in by_pk] or [0.0], dtype=np.float64)
        row_of = {cid: row for row, (_, cid, _) in enumerate(by_pk)}
        return cls(row_of, pks, power, float(max_ratio), installed_step_kwh(power) * float(max_ratio))


@dataclass
class ParsedCurves:
    """A validated file as dense contract rows over whole months: ``values[c]`` is ``contract_pk[c]``'s row on
    ``grid.grid`` as int32 Wh (-1 = not given) or float64 kWh (NaN = not given); month ``m`` is its slice
    ``grid.month_starts[m]:grid.month_starts[m + 1]``, and ``present[c, m]`` counts the steps given in it.
    ``first_day``/``last_day`` bound the data; ``sha256`` is the file's."""

    grid: MonthGrid
    contract_pk: np.ndarray
    values: np.ndarray
    present: np.ndarray
    rows: int
    first_day: date
    last_day: date
    sha256: str

    def month(self, c: int, m: int) -> np.ndarray:
        return self.values[c, self.grid.month_starts[m] : self.grid.month_starts[m + 1]]


# --- reading -------------------------------------------------------------------------------------------------


def read_source(source) -> bytes:
    """The bytes of ``source``: a path (read once), a binary file object (read once) or bytes-like (as is)."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            return handle.read()
    if hasattr(source, "read"):
        return source.read()
    return source


def _read_frame(data) -> tuple[pl.DataFrame, bool]:
    """Parse the bytes of a CSV or Parquet file into a frame of COLUMNS; returns (frame, is_parquet)."""
    is_parquet = bytes(data[:4]) == b"PAR1"
    try:
        if is_parquet:
            frame = pl.read_parquet(io.BytesIO(data))
        else:
            frame = pl.read_csv(
                io.BytesIO(data),
                schema_overrides={"contract_id": pl.Categorical, "start": pl.String, "energy_kwh": pl.String},
                infer_schema_length=0,
            )
    except Exception as exc:  # noqa: BLE001 - polars/pyarrow raise many types for a malformed file
        kind = "Parquet" if is_parquet else "CSV"
        raise CurveImportError(
            gettext_noop("not a readable %(kind)s file: %(problem)s"), kind=kind, problem=str(exc)
        ) from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise CurveImportError(
            gettext_noop("missing columns: %(missing)s (expected contract_id,start,energy_kwh; found %(found)s)"),
            missing=", ".join(missing),
            found=",".join(frame.columns),
        )
    return frame.select(COLUMNS), is_parquet


def _sha256(data) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the columns, shared by both passes ------------------------------------------------------------------------


@dataclass
class Starts:
    """The start column as integer instants (``per_second`` units per second; meaningless where ``bad``), the
    UTC offsets written in the text in seconds (None for aware timestamp columns, which carry none), and which
    rows are missing or malformed."""

    at: pl.Series
    offsets: pl.Series | None
    bad: pl.Series
    per_second: int

    @property
    def bad_message(self) -> CurveImportError:
        return BAD_TEXT_START if self.offsets is not None else MISSING_START


def parse_starts(column: pl.Series) -> Starts:
    """Parse a start column: ISO 8601 text ``YYYY-MM-DDTHH:MM:SS+HH:MM`` or an aware polars Datetime.
    CurveImportError if the column itself is of neither kind. Whether a written offset is Europe/Paris's at
    that instant is checked apart (``HourlyOffsets``)."""
    if isinstance(column.dtype, pl.Datetime):
        if column.dtype.time_zone is None:
            raise CurveImportError(
                gettext_noop("start has no time zone: give ISO text with offset or aware timestamps")
            )
        at = column.to_physical()
        return Starts(at, None, at.is_null(), PER_SECOND[column.dtype.time_unit])
    if column.dtype != pl.String:
        raise CurveImportError(gettext_noop("start must be ISO 8601 text with offset or an aware timestamp"))
    # The wall-clock part parsed without %z (3× faster) minus the written offset.
    text = pl.col("start")
    hours = text.str.slice(20, 2).cast(pl.Int32, strict=False)
    minutes = text.str.slice(23, 2).cast(pl.Int32, strict=False)
    offset = (pl.when(text.str.slice(19, 1) == "-").then(-1).otherwise(1) * (hours * 3600 + minutes * 60)).cast(
        pl.Int32
    )
    wall = text.str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us").dt.epoch("us")
    shape_ok = (
        (text.str.len_bytes() == 25)
        & (text.str.slice(22, 1) == ":")
        & text.str.slice(19, 1).is_in(["+", "-"])
        & (hours >= 0)
        & (minutes >= 0)
    )
    # Lazy, so that the slices shared by the expressions are computed once.
    parsed = (
        column.rename("start")
        .to_frame()
        .lazy()
        .select(at=wall - offset.cast(pl.Int64) * 1_000_000, offset=offset, ok=shape_ok)
        .with_columns(bad=pl.col("at").is_null() | ~pl.col("ok").fill_null(False))
        .collect()
    )
    return Starts(parsed["at"], parsed["offset"], parsed["bad"], 1_000_000)


class HourlyOffsets:
    """Europe/Paris UTC offsets (seconds) of instants from ``low`` to ``high`` (``per_second`` units), from an
    hourly table: Paris changes offset on the hour."""

    def __init__(self, low: int, high: int, per_second: int):
        self.per_hour = 3600 * per_second
        self.first = low // self.per_hour
        hours = np.arange(self.first, high // self.per_hour + 1, dtype=np.int64)
        self.table = paris_offsets(hours * 3600).astype(np.int32)

    def of(self, instants: np.ndarray) -> np.ndarray:
        return self.table[instants // self.per_hour - self.first]


def energy_floats(column: pl.Series) -> pl.Series:
    """The energy column as Float64 kWh, null where missing or not a number; CurveImportError if the column is
    neither text nor numbers."""
    if column.dtype == pl.String:
        return column.str.strip_chars().cast(pl.Float64, strict=False)
    if column.dtype.is_numeric():
        return column.cast(pl.Float64)
    raise CurveImportError(gettext_noop("energy_kwh must be numbers"))


def _pieces(series: pl.Series, size: int = PIECE_ROWS) -> list[tuple[int, int]]:
    """Row ranges of at most ``size`` rows that stay within the series' chunks (so reading them is zero-copy)."""
    pieces, a = [], 0
    for length in series.chunk_lengths():
        for b in range(a, a + length, size):
            pieces.append((b, min(b + size, a + length)))
        a += length
    return pieces


# --- the fast pass ---------------------------------------------------------------------------------------------


def _parse_fast(frame: pl.DataFrame, known: KnownContracts, whole_wh: bool) -> ParsedCurves | None:
    """Validate and lay out a file in multi-threaded passes over pieces of rows, without naming bad rows: None
    as soon as anything is wrong (``_report_errors`` then names every bad row). ``whole_wh``: lay out int32 Wh,
    raising _NotWholeWh if an energy is not a whole number of Wh. The returned curves carry no sha256 yet."""
    rows = frame.height
    ids = frame["contract_id"]
    if ids.dtype not in (pl.String, pl.Categorical):
        return None
    starts = parse_starts(frame["start"])
    energy = energy_floats(frame["energy_kwh"])
    if starts.bad.any() or energy.null_count():
        return None
    instants, offsets, per_second = starts.at, starts.offsets, starts.per_second
    low, high = int(instants.min()), int(instants.max())  # type: ignore[arg-type]  # an integer column
    if low < HANDLED[0] * per_second or high >= HANDLED[1] * per_second:
        return None
    first_day, last_day = local_days_of(low // per_second, high // per_second)
    grid = MonthGrid.covering(first_day, last_day)
    n_steps = grid.grid.n_steps
    base = grid.grid.origin * per_second
    per_step = STEP_SECONDS * per_second
    paris = HourlyOffsets(low, high, per_second) if offsets is not None else None
    work = pl.DataFrame(
        [ids.alias("id"), instants.alias("t"), energy.alias("e")]
        + ([offsets.alias("offset")] if offsets is not None else [])
    )
    row_of = known.row_of
    known_ids = pl.Series(list(row_of), dtype=pl.String)
    if ids.dtype != pl.String:
        known_ids = known_ids.cast(ids.dtype)
    known_rows = pl.Series(list(row_of.values()), dtype=pl.Int32)
    pieces = _pieces(work["t"])

    def contract_runs(piece: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
        """The known-contract row and length of each run of equal ids in the piece."""
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
        found = list(pool.map(contract_runs, pieces))
        runs = [r for r in found if r is not None]
        if len(runs) != len(found):
            return None
        in_file = np.unique(np.concatenate([codes for codes, _ in runs]))
        if in_file.size * n_steps > MAX_CELLS:
            return None
        file_row = np.full(known.pks.size, -1, dtype=np.int64)
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
            if not (e >= 0).all():
                return False
            codes, lengths = runs[k]
            # Each run of one contract's rows: its largest energy against the contract's limit.
            largest = np.maximum.reduceat(e, np.cumsum(lengths, dtype=np.int64) - lengths)
            if (largest > known.max_kwh[codes]).any() or largest.max() == np.inf:
                return False
            t = part["t"].to_numpy()
            relative = t - base
            step = (relative * (1.0 / per_step)).astype(np.int64)
            if not np.array_equal(step * per_step, relative) or step.min() < 0 or step.max() >= n_steps:
                return False
            if paris is not None and not np.array_equal(paris.of(t), part["offset"].to_numpy()):
                return False
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
        starts_of_months = grid.month_starts[:-1]

        def count(c: int) -> np.ndarray:
            part = values[c : c + 64]
            return np.add.reduceat(codec.given(part), starts_of_months, axis=1)

        present = np.concatenate(list(pool.map(count, blocks)))
    if int(present.sum()) != rows:  # a duplicate step
        return None
    return ParsedCurves(grid, known.pks[in_file], values, present, rows, first_day, last_day, sha256="")


# --- the reporting pass ----------------------------------------------------------------------------------------


class _Errors:
    """Rows in error, by check; reported in row order, at most MAX_ERRORS_SHOWN lines. A problem is a refusal, or a
    function giving the refusal of a row."""

    def __init__(self):
        self.found: list[tuple[np.ndarray, UserError | Callable[[int], UserError]]] = []

    def add(self, rows: np.ndarray, problem: UserError | Callable[[int], UserError]) -> None:
        if rows.size:
            self.found.append((rows.astype(np.int64), problem))

    def __bool__(self):
        return bool(self.found)

    def error(self, frame: pl.DataFrame, is_parquet: bool) -> CurveImportError:
        """The refusal listing the first rows in error with their values."""
        total = sum(rows.size for rows, _ in self.found)
        lines: list[tuple[int, UserError]] = []
        for rows, problem in self.found:
            for row in rows[:MAX_ERRORS_SHOWN].tolist():
                lines.append((row, problem if isinstance(problem, UserError) else problem(row)))
        lines.sort(key=lambda line: line[0])
        shown = lines[:MAX_ERRORS_SHOWN]
        picked = frame[[r for r, _ in shown]].cast(pl.String).rows() if shown else []
        located: list[UserError] = [
            _located(r, problem, ", ".join("" if v is None else v for v in values), is_parquet)
            for (r, problem), values in zip(shown, picked, strict=True)
        ]
        if total > len(shown):
            located.append(more(total - len(shown)))
        return CurveImportError(
            gettext_noop("nothing was imported (errors: %(count)s):\n%(problems)s"), count=total, problems=located
        )


def _located(row: int, problem: UserError, values: str, is_parquet: bool) -> CurveImportError:
    """A row's problem with where it is (1-based data row for Parquet, file line for CSV) and its values."""
    if is_parquet:
        return CurveImportError(
            gettext_noop("row %(row)s: %(problem)s (%(values)s)"), row=row + 1, problem=problem, values=values
        )
    return CurveImportError(
        gettext_noop("line %(line)s: %(problem)s (%(values)s)"), line=row + 2, problem=problem, values=values
    )


def _contract_rows(column: pl.Series, known: dict[str, int]) -> np.ndarray:
    """Index into the known contracts for every row (-1: unknown or empty), via the categorical codes."""
    if column.dtype == pl.String:
        column = column.cast(pl.Categorical)
    if column.dtype != pl.Categorical:
        raise CurveImportError(gettext_noop("contract_id must be text"))
    distinct = column.drop_nulls().unique()
    codes = distinct.to_physical().to_numpy()
    table = np.full(int(codes.max()) + 2 if codes.size else 1, -1, dtype=np.int32)
    for code, text in zip(codes, distinct.cast(pl.String).to_list(), strict=True):
        table[code] = known.get(text, -1)
    physical = column.to_physical().fill_null(table.size - 1).to_numpy()
    return table[physical]


def _number(value: float) -> str:
    """A number as given, as short as it is exact: 1875, 562.5, 1e+300."""
    text = repr(float(value))
    return text.removesuffix(".0")


def _quantity(value: float) -> int | float:
    """A figure of a message: an int when it is whole (1875, not 1875.0), else the float (562.5)."""
    value = float(value)
    return int(value) if value.is_integer() else value


def _check_energies(frame: pl.DataFrame, contract_row: np.ndarray, known: KnownContracts, errors: _Errors) -> None:
    """Report missing, non-numeric, infinite, negative and impossible energies (above the contract's limit)."""
    column = frame["energy_kwh"]
    values = energy_floats(column)
    if column.dtype == pl.String:
        stripped = column.str.strip_chars()
        missing = (stripped.is_null() | (stripped == "")).to_numpy()
    else:
        missing = column.is_null().to_numpy()
    energy = values.fill_null(np.nan).to_numpy()
    finite = np.isfinite(energy)
    errors.add(np.flatnonzero(missing), CurveImportError(gettext_noop("missing energy")))
    errors.add(np.flatnonzero(~missing & ~finite), CurveImportError(gettext_noop("energy is not a number")))
    with np.errstate(invalid="ignore"):
        errors.add(np.flatnonzero(energy < 0), CurveImportError(gettext_noop("negative energy")))
        limit = np.where(contract_row >= 0, known.max_kwh[contract_row], np.inf)
        over = np.flatnonzero(finite & (energy > limit))
    percent = _quantity(round(known.max_ratio * 100, 3))

    def too_much(row: int) -> CurveImportError:
        c = contract_row[row]
        return CurveImportError(
            gettext_noop(
                "energy %(energy)s kWh exceeds the %(limit)s kWh a %(power)s MW installation can produce in 5 minutes "
                "(limit %(percent)s %%)"
            ),
            energy=_number(energy[row]),
            limit=_quantity(round(known.max_kwh[c], 3)),
            power=_quantity(known.power_mw[c]),
            percent=percent,
        )

    errors.add(over, too_much)


def _report_errors(frame: pl.DataFrame, is_parquet: bool, known: KnownContracts) -> None:
    """The row-by-row validation that names every bad row (run when the fast pass finds something wrong);
    raises CurveImportError if any row is bad."""
    errors = _Errors()
    contract_row = _contract_rows(frame["contract_id"], known.row_of)
    errors.add(np.flatnonzero(contract_row < 0), CurveImportError(gettext_noop("unknown contract")))
    starts = parse_starts(frame["start"])
    per_second = starts.per_second
    bad = starts.bad.to_numpy()
    errors.add(np.flatnonzero(bad), starts.bad_message)
    instants = starts.at.fill_null(0).to_numpy()
    good = np.flatnonzero(~bad)
    outside = (instants[good] < HANDLED[0] * per_second) | (instants[good] >= HANDLED[1] * per_second)
    errors.add(good[outside], OUTSIDE_DAYS)
    good = good[~outside]
    wrong_offset = good[:0]
    if starts.offsets is not None and good.size:
        given = starts.offsets.fill_null(0).to_numpy()[good]
        at = instants[good]
        expected = HourlyOffsets(int(at.min()), int(at.max()), per_second).of(at)
        wrong_offset = good[given != expected]
        errors.add(wrong_offset, CurveImportError(gettext_noop("wrong UTC offset for Europe/Paris at that instant")))
    _check_energies(frame, contract_row, known, errors)
    if good.size < bad.size:  # instants unusable: the step checks below would only add noise
        raise errors.error(frame, is_parquet)
    off_grid = np.flatnonzero(instants % (STEP_SECONDS * per_second))
    errors.add(off_grid, CurveImportError(gettext_noop("start is not on a 5-minute boundary")))
    # Rows already in error (unknown contract, wrong offset, off the grid) must not pass for duplicates.
    invalid = contract_row < 0
    invalid[wrong_offset] = True
    invalid[off_grid] = True
    keys = pl.DataFrame({"contract": contract_row, "at": instants, "invalid": invalid}).select(
        duplicate=(pl.struct("contract", "at").is_duplicated() & ~pl.struct("contract", "at").is_first_distinct())
        & ~pl.col("invalid")
    )
    errors.add(
        np.flatnonzero(keys["duplicate"].to_numpy()),
        CurveImportError(gettext_noop("duplicate step (same contract and start as an earlier row)")),
    )
    if errors:
        raise errors.error(frame, is_parquet)


# --- the whole -------------------------------------------------------------------------------------------------


def parse_curves(source, known: KnownContracts) -> ParsedCurves:
    """Read ``source`` (a path, a binary file object or the file's bytes) once, validate it and lay it out as
    dense contract-months. CurveImportError, naming every bad row, if any row is bad: unknown contract, start
    not ISO with the Europe/Paris offset of its instant (text columns; aware timestamp columns carry no written
    offset), outside the days handled, not on a 5-minute boundary, duplicate step, missing, non-numeric,
    negative or impossible energy (above ``known.max_kwh`` of its contract)."""
    data = read_source(source)
    with ThreadPoolExecutor(1) as hasher:
        digest = hasher.submit(_sha256, data)  # hashlib releases the GIL: hashed while polars parses
        frame, is_parquet = _read_frame(data)
        del data
        if frame.height == 0:
            raise CurveImportError(gettext_noop("the file holds no data row"))
        try:
            parsed = _parse_fast(frame, known, whole_wh=True)
        except _NotWholeWh:
            parsed = _parse_fast(frame, known, whole_wh=False)
        if parsed is None:
            _report_errors(frame, is_parquet, known)
            raise CurveImportError(
                gettext_noop(
                    "the file covers too many contract-months to import at once (at most %(cells)s contract × "
                    "5-minute cells): split it by month or by contracts"
                ),
                cells=MAX_CELLS,
            )
        parsed.sha256 = digest.result()
    return parsed
