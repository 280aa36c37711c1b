"""Compliance over stored curves and consignes: evaluation of a period, and the monthly run with its results.

Callers own the transaction. Episodes are attributed to the month (or day) of their start and are always
computed whole: the grid starts one day before the period and is extended after it, as long as an episode
runs on, so that an episode crossing the boundary keeps its true neutralised steps.

Stale results: an import does not touch results; the run always recomputes, and ``stale_contracts`` says
which contract-months have newer curves or consigne versions than the month's latest run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import connection, models

from smartoa.billing.models import ComplianceRun, ContractMonth, EpisodeResult
from smartoa.consignes.models import ConsigneVersion
from smartoa.contracts.models import Contract
from smartoa.core.clock import now
from smartoa.domain.compliance import Evaluation, evaluate, installed_step_kwh, per_day, tolerance_per_step
from smartoa.domain.curves import Grid, month_days
from smartoa.domain.schedule import periods_from_json
from smartoa.metering.models import CurveDay
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
        return slice(int(self.grid.day_starts[self.grid.day_index(self.first)]),
                     int(self.grid.day_starts[self.grid.day_index(self.last) + 1]))


def _stop_grid(grid: Grid, pks: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Consigne values per step (contract × step, float32) from each contract-day's current version, and the
    version numbers used (contract × day, 0 = no consigne)."""
    row_of = {pk: i for i, pk in enumerate(pks)}
    numbers = np.zeros((len(pks), len(grid.days)), dtype=np.int32)
    stop = np.zeros((len(pks), grid.n_steps), dtype=np.float32)
    latest: dict[tuple[int, int], tuple[int, int, bool]] = {}
    day_of = {d.isoformat(): i for i, d in enumerate(grid.days)}
    table = connection.ops.quote_name(ConsigneVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, contract_id, delivery_day, number, has_stop FROM {table} "
            "WHERE delivery_day >= %s AND delivery_day <= %s",
            [grid.days[0], grid.days[-1]],
        )
        while chunk := cursor.fetchmany(50_000):
            for vid, contract_pk, day, number, has_stop in chunk:
                row = row_of.get(contract_pk)
                if row is None:
                    continue
                key = (row, day_of[day if isinstance(day, str) else day.isoformat()])
                if key not in latest or latest[key][1] < number:
                    latest[key] = (vid, number, has_stop)
    with_stop = {}
    for (row, d), (vid, number, has_stop) in latest.items():
        numbers[row, d] = number
        if has_stop:
            with_stop[vid] = row
    ids = list(with_stop)
    for a in range(0, len(ids), BATCH):
        for vid, periods in ConsigneVersion.objects.filter(id__in=ids[a : a + BATCH]).values_list("id", "periods"):
            row = stop[with_stop[vid]]
            for p in periods_from_json([p for p in periods if p["value"] > 0]):
                row[grid.step_of(p.start) : grid.step_of(p.end)] = p.value
    return stop, numbers


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
    return PeriodEvaluation(first, last, grid, contracts, dense.energy, dense.revisions, numbers, result, selected,
                            tolerance_kwh, tolerance_percent)


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
    checked_days = per_day(ev.checked, grid.day_starts)[:, month_slice]
    breach_days = per_day(ev.breach, grid.day_starts)[:, month_slice]
    missing_days = per_day(ev.missing, grid.day_starts)[:, month_slice]

    ContractMonth.objects.filter(month=first).delete()
    EpisodeResult.objects.filter(month=first).delete()
    run = ComplianceRun.objects.create(
        month=first, started_at=started, finished_at=started, actor=actor, tolerance_kwh=period.tolerance_kwh,
        tolerance_percent=period.tolerance_percent, contracts=len(contracts), episodes=int(selected.size),
    )
    instants = grid.origin + 300 * np.arange(grid.n_steps + 1, dtype=np.int64)
    def moment(step):
        return datetime.fromtimestamp(int(instants[step]), UTC)

    rows = ep.row[selected]
    episode_objects = [
        EpisodeResult(
            run=run, contract_id=contracts[int(ep.row[i])].pk, month=first, start=moment(ep.start[i]),
            end=moment(ep.end[i]), checked_steps=int(ep.checked[i]), breach_steps=int(ep.breach[i]),
            missing_steps=int(ep.missing[i]), energy_during_stop_kwh=float(ep.energy_checked_kwh[i]),
            energy_neutralised_kwh=float(ep.energy_neutralised_kwh[i]), excess_kwh=float(ep.excess_kwh[i]),
        )
        for i in selected.tolist()
    ]
    _insert(EpisodeResult, episode_objects)

    def sums(values):
        return np.bincount(rows, weights=values[selected], minlength=len(contracts))

    totals = {
        "episodes": np.bincount(rows, minlength=len(contracts)),
        "checked_steps": sums(ep.checked),
        "breach_steps": sums(ep.breach),
        "missing_steps": sums(ep.missing),
        "energy_during_stop_kwh": sums(ep.energy_checked_kwh),
        "energy_neutralised_kwh": sums(ep.energy_neutralised_kwh),
        "excess_kwh": sums(ep.excess_kwh),
    }
    day_names = [d.isoformat() for d in grid.days]
    month_rows = []
    for r, contract in enumerate(contracts):
        day_figures = {
            day_names[d + 1]: {"checked": int(c), "breach": int(b), "missing": int(m)}
            for d, (c, b, m) in enumerate(zip(checked_days[r], breach_days[r], missing_days[r], strict=True))
            if c
        }
        inputs = {
            "curve_revisions": {day_names[d]: int(v) for d, v in enumerate(period.curve_revisions[r]) if v},
            "consigne_versions": {day_names[d]: int(v) for d, v in enumerate(period.consigne_numbers[r]) if v},
        }
        month_rows.append(
            ContractMonth(
                run=run, contract=contract, month=first, episodes=int(totals["episodes"][r]),
                checked_steps=int(totals["checked_steps"][r]), breach_steps=int(totals["breach_steps"][r]),
                missing_steps=int(totals["missing_steps"][r]),
                energy_during_stop_kwh=float(totals["energy_during_stop_kwh"][r]),
                energy_neutralised_kwh=float(totals["energy_neutralised_kwh"][r]),
                excess_kwh=float(totals["excess_kwh"][r]), days=day_figures, inputs=inputs,
            )
        )
    _insert(ContractMonth, month_rows)
    run.finished_at = now()
    run.save(update_fields=["finished_at"])
    return run


def _insert(model, objects) -> None:
    """Insert unsaved ``objects`` with one prepared statement (bulk_create's per-value overhead is the
    bottleneck at 10,000 contracts); integer and float fields go as they are."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    plain = (models.IntegerField, models.FloatField, models.ForeignKey, models.BooleanField)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    prepared = [(f.attname, None if isinstance(f, plain) else f) for f in fields]
    rows = [
        [getattr(o, name) if field is None else field.get_db_prep_save(getattr(o, name), connection)
         for name, field in prepared]
        for o in objects
    ]
    with connection.cursor() as cursor:
        for a in range(0, len(rows), 5_000):
            cursor.executemany(sql, rows[a : a + 5_000])


def latest_run(month: date) -> ComplianceRun | None:
    return ComplianceRun.objects.filter(month=month.replace(day=1)).order_by("-started_at", "-id").first()


def stale_contracts(run: ComplianceRun) -> set[int]:
    """Contracts whose curves or consignes for the run's month (± a day) changed after the run started."""
    days = month_days(run.month)
    window = (days[0] - timedelta(days=1), days[-1] + timedelta(days=1))
    curves = CurveDay.objects.filter(curve_import__received_at__gt=run.started_at, day__range=window)
    versions = ConsigneVersion.objects.filter(created_at__gt=run.started_at, delivery_day__range=window)
    return set(curves.values_list("contract_id", flat=True).distinct()) | set(
        versions.values_list("contract_id", flat=True).distinct()
    )
