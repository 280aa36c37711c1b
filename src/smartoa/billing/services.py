"""Compliance over stored curves and consignes: evaluation of a period, and the monthly run with its results.

Callers own the transaction. Episodes are attributed to the month (or day) of their start and are always
computed whole: the grid starts one day before the period and is extended after it, as long as an episode
runs on, so that an episode crossing the boundary keeps its true neutralised steps.

Stale results: an import does not touch results; the run always recomputes, and ``stale_contracts`` says
which contract-months have newer curves or consigne versions than the month's latest run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import connection

from smartoa.billing.models import ComplianceRun, ContractMonth, EpisodeResult
from smartoa.consignes.models import ConsigneVersion
from smartoa.contracts.models import Contract
from smartoa.core.clock import now
from smartoa.domain.calendar import parse_instant
from smartoa.domain.compliance import Evaluation, evaluate, installed_step_kwh, tolerance_per_step
from smartoa.domain.curves import STEP_SECONDS, Grid, month_days
from smartoa.metering.models import CurveMonth
from smartoa.metering.services import read_dense

MAX_EXTENSION_DAYS = 62
BATCH = 500


class BillingError(ValueError):
    """A billing operation refused; the message is meant for the user."""


@dataclass
class PeriodEvaluation:
    """Evaluation of ``contracts`` over ``grid``; the reported days are ``first``…``last``; ``selected`` marks
    the episodes that start within them."""

    first: date
    last: date
    grid: Grid
    contracts: list[Contract]
    energy: np.ndarray
    curve_revisions: np.ndarray
    consigne_numbers: np.ndarray
    evaluation: Evaluation
    selected: np.ndarray
    tolerance_kwh: float
    tolerance_percent: float

    @property
    def period_steps(self) -> slice:
        return slice(
            int(self.grid.day_starts[self.grid.day_index(self.first)]),
            int(self.grid.day_starts[self.grid.day_index(self.last) + 1]),
        )


def _day_column(name: str) -> str:
    """A date column as the driver should return it: SQLite's text as is (Django's per-row date converter is
    the slow part of reading 300,000 rows), PostgreSQL's date (parsed in C)."""
    quoted = connection.ops.quote_name(name)
    return f"CAST({quoted} AS TEXT)" if connection.vendor == "sqlite" else quoted


def _stop_grid(grid: Grid, pks: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Consigne values per step (contract × step, float32) from each contract-day's current version, and the
    version numbers used (contract × day, 0 = no consigne)."""
    row_of = {pk: i for i, pk in enumerate(pks)}
    n_days = len(grid.days)
    numbers = np.zeros((len(pks), n_days), dtype=np.int32)
    stop = np.zeros((len(pks), grid.n_steps), dtype=np.float32)
    day_of = {d: i for i, d in enumerate(grid.days)} | {d.isoformat(): i for i, d in enumerate(grid.days)}
    latest: dict[int, tuple[int, object]] = {}  # row × n_days + day -> (number, periods when it has a stop)
    table = connection.ops.quote_name(ConsigneVersion._meta.db_table)
    with connection.cursor() as cursor:
        # The periods come along only for versions with a stop (about one contract-day in five).
        cursor.execute(
            f"SELECT contract_id, {_day_column('delivery_day')}, number, CASE WHEN has_stop THEN periods END "
            f"FROM {table} WHERE delivery_day >= %s AND delivery_day <= %s",
            [grid.days[0], grid.days[-1]],
        )
        while chunk := cursor.fetchmany(50_000):
            for contract_pk, day, number, periods in chunk:
                row = row_of.get(contract_pk)
                if row is None:
                    continue
                key = row * n_days + day_of[day]
                seen = latest.get(key)
                if seen is None or seen[0] < number:
                    latest[key] = (number, periods)
    if latest:
        keys = np.fromiter(latest, dtype=np.int64, count=len(latest))
        numbers.ravel()[keys] = np.fromiter((v[0] for v in latest.values()), dtype=np.int32, count=len(latest))
    origin, n_steps = grid.origin, grid.n_steps
    parsed: dict[str, list] = {}
    for key, (_, periods) in latest.items():
        if periods is None:
            continue
        if isinstance(periods, str):  # SQLite: the JSON text; PostgreSQL's driver decodes jsonb itself
            text = periods
            if (spans := parsed.get(text)) is None:
                spans = parsed[text] = _stop_spans(json.loads(text), origin, n_steps, grid)
        else:
            spans = _stop_spans(periods, origin, n_steps, grid)
        line = stop[key // n_days]
        for a, b, value in spans:
            line[a:b] = value
    return stop, numbers


def _stop_spans(periods: list[dict], origin: int, n_steps: int, grid: Grid) -> list[tuple[int, int, float]]:
    """(first step, end step, value) of each stop period (value > 0) of a stored version on the grid."""
    spans = []
    for p in periods:
        if p["value"] > 0:
            a = int(parse_instant(p["start_date"]).timestamp()) - origin
            b = int(parse_instant(p["end_date"]).timestamp()) - origin
            if a % STEP_SECONDS or b % STEP_SECONDS or not 0 <= a <= b <= STEP_SECONDS * n_steps:
                a, b = grid.step_of(parse_instant(p["start_date"])), grid.step_of(parse_instant(p["end_date"]))
            else:
                a, b = a // STEP_SECONDS, b // STEP_SECONDS
            spans.append((a, b, float(p["value"])))
    return spans


def tolerance_settings() -> tuple[float, float]:
    return float(settings.SMARTOA_TOLERANCE_KWH), float(settings.SMARTOA_TOLERANCE_PERCENT)


def evaluate_period(first: date, last: date, contracts: list[Contract], *, tolerance=None) -> PeriodEvaluation:
    """Evaluate ``contracts`` for the days ``first``…``last`` (episodes starting in them, computed whole)."""
    tolerance_kwh, tolerance_percent = tolerance if tolerance is not None else tolerance_settings()
    pks = [c.pk for c in contracts]
    power = np.array([float(c.installed_power) for c in contracts], dtype=np.float64)
    step_kwh = installed_step_kwh(power)
    tolerance_steps = tolerance_per_step(step_kwh, tolerance_kwh, tolerance_percent)
    end = last + timedelta(days=1)
    while True:
        grid = Grid.for_days(first - timedelta(days=1), end)
        stop, numbers = _stop_grid(grid, pks)
        dense = read_dense(grid, pks)
        result = evaluate(dense.energy, stop, step_kwh, tolerance_steps)
        ep = result.episodes
        lo = grid.day_starts[1]
        hi = grid.day_starts[grid.day_index(last) + 1]
        selected = (ep.start >= lo) & (ep.start < hi)
        if not (selected & ep.open_end).any() or (end - last).days >= MAX_EXTENSION_DAYS:
            break
        end += timedelta(days=7)
    return PeriodEvaluation(
        first,
        last,
        grid,
        contracts,
        dense.energy,
        dense.revisions,
        numbers,
        result,
        selected,
        tolerance_kwh,
        tolerance_percent,
    )


def _contracts_for(first: date, last: date) -> list[Contract]:
    """Contracts with at least one consigne in the period (every one gets a result, even without stops)."""
    ids = ConsigneVersion.objects.filter(delivery_day__range=(first, last)).values("contract_id").distinct()
    return list(Contract.objects.filter(pk__in=ids).order_by("pk"))


def run_compliance(month: date, *, actor: str, tolerance=None) -> ComplianceRun:
    """Compute the month's compliance for every contract with a consigne in it; replaces the month's results."""
    started = now()
    days = month_days(month)
    first, last = days[0], days[-1]
    contracts = _contracts_for(first, last)
    if not contracts:
        raise BillingError(f"no consigne in {first:%Y-%m}: nothing to check")
    period = evaluate_period(first, last, contracts, tolerance=tolerance)
    grid, ev = period.grid, period.evaluation
    ep = ev.episodes
    selected = np.flatnonzero(period.selected)

    month_slice = slice(1, 1 + len(days))
    checked_days, breach_days, missing_days = (
        counts[:, month_slice].tolist() for counts in ev.counts_per_day(grid.day_starts)
    )

    ContractMonth.objects.filter(month=first).delete()
    EpisodeResult.objects.filter(month=first).delete()
    run = ComplianceRun.objects.create(
        month=first,
        started_at=started,
        finished_at=started,
        actor=actor,
        tolerance_kwh=period.tolerance_kwh,
        tolerance_percent=period.tolerance_percent,
        contracts=len(contracts),
        episodes=int(selected.size),
    )
    instants = grid.origin + 300 * np.arange(grid.n_steps + 1, dtype=np.int64)
    moments: dict[int, object] = {}

    def moment(step):
        if (value := moments.get(step)) is None:
            at = datetime.fromtimestamp(int(instants[step]), UTC)
            value = moments[step] = connection.ops.adapt_datetimefield_value(at)
        return value

    month_value = connection.ops.adapt_datefield_value(first)
    pks = [c.pk for c in contracts]
    rows = ep.row[selected]
    columns = dict(
        contract_id=[pks[r] for r in rows.tolist()],
        start=[moment(s) for s in ep.start[selected].tolist()],
        end=[moment(s) for s in ep.end[selected].tolist()],
        checked_steps=ep.checked[selected].tolist(),
        breach_steps=ep.breach[selected].tolist(),
        missing_steps=ep.missing[selected].tolist(),
        energy_during_stop_kwh=ep.energy_checked_kwh[selected].tolist(),
        energy_neutralised_kwh=ep.energy_neutralised_kwh[selected].tolist(),
        excess_kwh=ep.excess_kwh[selected].tolist(),
    )
    _insert(EpisodeResult, {"run_id": run.pk, "month": month_value}, columns)

    def sums(values):
        return np.bincount(rows, weights=values[selected], minlength=len(contracts))

    totals = {
        "episodes": np.bincount(rows, minlength=len(contracts)).tolist(),
        "checked_steps": sums(ep.checked).astype(np.int64).tolist(),
        "breach_steps": sums(ep.breach).astype(np.int64).tolist(),
        "missing_steps": sums(ep.missing).astype(np.int64).tolist(),
        "energy_during_stop_kwh": sums(ep.energy_checked_kwh).tolist(),
        "energy_neutralised_kwh": sums(ep.energy_neutralised_kwh).tolist(),
        "excess_kwh": sums(ep.excess_kwh).tolist(),
    }
    day_names = [d.isoformat() for d in grid.days]
    month_names = day_names[month_slice]
    json_field = ContractMonth._meta.get_field("days")
    curve_revisions = period.curve_revisions.tolist()
    consigne_numbers = period.consigne_numbers.tolist()
    days_column, inputs_column = [], []
    for r in range(len(contracts)):
        day_figures = {
            name: {"checked": c, "breach": b, "missing": m}
            for name, c, b, m in zip(month_names, checked_days[r], breach_days[r], missing_days[r], strict=True)
            if c
        }
        inputs = {
            "curve_revisions": {name: v for name, v in zip(day_names, curve_revisions[r], strict=True) if v},
            "consigne_versions": {name: v for name, v in zip(day_names, consigne_numbers[r], strict=True) if v},
        }
        days_column.append(json_field.get_db_prep_save(day_figures, connection))
        inputs_column.append(json_field.get_db_prep_save(inputs, connection))
    _insert(
        ContractMonth,
        {"run_id": run.pk, "month": month_value},
        dict(contract_id=pks, days=days_column, inputs=inputs_column, **totals),
    )
    run.finished_at = now()
    run.save(update_fields=["finished_at"])
    return run


def _insert(model, constants: dict, columns: dict[str, list]) -> None:
    """Insert rows given column by column (values ready for the database), with ``constants`` in every row,
    through one prepared statement (bulk_create's per-object cost is the bottleneck at 10,000 contracts)."""
    names = list(constants) + list(columns)
    fields = {f.attname: f.column for f in model._meta.concrete_fields if not f.primary_key}
    if set(names) != set(fields):
        raise ValueError(f"{model.__name__}: columns {sorted(names)} do not match {sorted(fields)}")
    table = connection.ops.quote_name(model._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(fields[n]) for n in names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )
    fixed = tuple(constants.values())
    rows = [fixed + values for values in zip(*columns.values(), strict=True)]
    with connection.cursor() as cursor:
        for a in range(0, len(rows), 5_000):
            cursor.executemany(sql, rows[a : a + 5_000])


def latest_run(month: date) -> ComplianceRun | None:
    return ComplianceRun.objects.filter(month=month.replace(day=1)).order_by("-started_at", "-id").first()


def stale_contracts(run: ComplianceRun) -> set[int]:
    """Contracts whose curves or consignes for the run's month (± a day) changed after the run started."""
    days = month_days(run.month)
    window = (days[0] - timedelta(days=1), days[-1] + timedelta(days=1))
    months = {window[0].replace(day=1), run.month, window[1].replace(day=1)}
    curves = CurveMonth.objects.filter(curve_import__received_at__gt=run.started_at, month__in=months)
    versions = ConsigneVersion.objects.filter(created_at__gt=run.started_at, delivery_day__range=window)
    return set(curves.values_list("contract_id", flat=True).distinct()) | set(
        versions.values_list("contract_id", flat=True).distinct()
    )
