"""Evaluation of a period: the given contracts' stored curves checked against their consignes' current versions.

Episodes are attributed to the day (or month) of their start and are always computed whole: the grid starts one
day before the period and is extended after it while an episode runs on, so that an episode crossing the
boundary keeps its true neutralised steps. Only the given contracts are read (their ids are in the SQL), unless
``all_contracts`` asks for every one (the monthly run), which reads the period once without an id list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.conf import settings

from smartoa.consignes.queries import current_rows
from smartoa.contracts.models import Contract
from smartoa.domain.compliance import Evaluation, evaluate, installed_step_kwh, tolerance_per_step
from smartoa.domain.curves import Grid, stop_spans
from smartoa.metering.storage import read_dense

MAX_EXTENSION_DAYS = 62


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


def stop_grid(grid: Grid, pks: list[int], *, all_contracts: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Consigne values per step (contract × step, float32) from each contract-day's current version, and the
    version numbers used (contract × day, 0 = no consigne)."""
    row_of = {pk: i for i, pk in enumerate(pks)}
    n_days = len(grid.days)
    numbers = np.zeros((len(pks), n_days), dtype=np.int32)
    stop = np.zeros((len(pks), grid.n_steps), dtype=np.float32)
    day_of = {d: i for i, d in enumerate(grid.days)}
    spans_of: dict[str, list] = {}  # stored periods text -> spans (one schedule is shared by many contract-days)
    for contract_pk, day, number, periods, _ in current_rows(
        grid.days[0], grid.days[-1], None if all_contracts else pks
    ):
        row = row_of.get(contract_pk)
        if row is None:
            continue
        numbers[row, day_of[day]] = number
        if periods is None:  # no stop that day
            continue
        if isinstance(periods, str):  # SQLite: the JSON text; PostgreSQL's driver decodes jsonb itself
            if (spans := spans_of.get(periods)) is None:
                spans = spans_of[periods] = stop_spans(json.loads(periods), grid)
        else:
            spans = stop_spans(periods, grid)  # type: ignore[arg-type]  # decoded jsonb: a list
        line = stop[row]
        for a, b, value in spans:
            line[a:b] = value
    return stop, numbers


def tolerance_settings() -> tuple[float, float]:
    return float(settings.SMARTOA_TOLERANCE_KWH), float(settings.SMARTOA_TOLERANCE_PERCENT)


def evaluate_period(
    first: date, last: date, contracts: list[Contract], *, tolerance=None, all_contracts: bool = False
) -> PeriodEvaluation:
    """Evaluate ``contracts`` for the days ``first``…``last`` (episodes starting in them, computed whole)."""
    tolerance_kwh, tolerance_percent = tolerance if tolerance is not None else tolerance_settings()
    pks = [c.pk for c in contracts]
    power = np.array([float(c.installed_power) for c in contracts], dtype=np.float64)
    step_kwh = installed_step_kwh(power)
    tolerance_steps = tolerance_per_step(step_kwh, tolerance_kwh, tolerance_percent)
    end = last + timedelta(days=1)
    while True:
        grid = Grid.for_days(first - timedelta(days=1), end)
        stop, numbers = stop_grid(grid, pks, all_contracts=all_contracts)
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
