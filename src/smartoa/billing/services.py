"""The monthly compliance run and its stored results, from which statements are built. Callers own the
transaction (the run writes its results in one transaction of its own, nested in the caller's if any).

A run evaluates every contract with a consigne in the month (``evaluation.py``), a batch of contracts at a time
(reads only, its progress told after each batch), then stores per contract-month and per episode the figures, and
the compensation of the contracts whose inputs are recorded. It replaces the month's previous results at once.
Stale results: an import, a new consigne version or new compensation inputs do not touch results;
``stale_contracts`` says which contract-months changed since the month's latest run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import connection, transaction
from django.utils.translation import gettext_noop

from smartoa.audit.services import record
from smartoa.billing import compensation
from smartoa.billing.evaluation import PeriodEvaluation, evaluate_period
from smartoa.billing.models import CompensationInput, ComplianceRun, ContractMonth, EpisodeResult
from smartoa.consignes.models import ConsigneVersion
from smartoa.contracts.models import Contract
from smartoa.core.clock import now
from smartoa.domain.calendar import iso
from smartoa.domain.curves import month_days
from smartoa.domain.errors import InvalidInput, NotFound
from smartoa.domain.text import check_text
from smartoa.metering.models import CurveKind, CurveMonth
from smartoa.metering.storage import read_dense


def _contracts_for(first: date, last: date) -> list[Contract]:
    """Contracts with at least one consigne in the period (every one gets a result, even without stops)."""
    ids = ConsigneVersion.objects.filter(delivery_day__range=(first, last)).values("contract_id").distinct()
    return list(Contract.objects.filter(pk__in=ids).order_by("pk"))


BATCH_CONTRACTS = 1000  # contracts evaluated at once: the run's memory and the grain of its progress


def run_compliance(
    month: date,
    *,
    actor: str,
    tolerance=None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH_CONTRACTS,
) -> ComplianceRun:
    """Compute the month's compliance for every contract with a consigne in it; replaces the month's results.

    The contracts are evaluated ``batch_size`` at a time (reads only), ``progress(done, total)`` told after each
    batch; the results are then written in one transaction (the month's previous results replaced at once)."""
    started = now()
    days = month_days(month)
    first, last = days[0], days[-1]
    contracts = _contracts_for(first, last)
    if not contracts:
        raise NotFound(gettext_noop("no consigne in %(month)s: nothing to check"), month=f"{first:%Y-%m}")
    total = len(contracts)
    if progress is not None:
        progress(0, total)
    episodes: dict[str, list] = defaultdict(list)
    months: dict[str, list] = defaultdict(list)
    tolerances = (0.0, 0.0)
    for a in range(0, total, batch_size):
        batch = contracts[a : a + batch_size]
        period = evaluate_period(first, last, batch, tolerance=tolerance, all_contracts=len(batch) == total)
        tolerances = (period.tolerance_kwh, period.tolerance_percent)
        for columns, found in zip((episodes, months), _batch_results(first, days, period), strict=True):
            for name, values in found.items():
                columns[name].extend(values)
        if progress is not None:
            progress(a + len(batch), total)

    with transaction.atomic():
        ContractMonth.objects.filter(month=first).delete()
        EpisodeResult.objects.filter(month=first).delete()
        run = ComplianceRun.objects.create(
            month=first,
            started_at=started,
            finished_at=started,
            actor=actor,
            tolerance_kwh=tolerances[0],
            tolerance_percent=tolerances[1],
            contracts=total,
            episodes=len(episodes["contract_id"]),
        )
        month_value = connection.ops.adapt_datefield_value(first)
        _insert(EpisodeResult, {"run_id": run.pk, "month": month_value}, episodes)
        _insert(ContractMonth, {"run_id": run.pk, "month": month_value}, months)
        run.finished_at = now()
        run.save(update_fields=["finished_at"])
        record("compliance.run", actor=actor, month=f"{first:%Y-%m}", contracts=run.contracts, episodes=run.episodes)
    return run


def _batch_results(first: date, days: list[date], period: PeriodEvaluation) -> tuple[dict, dict]:
    """The rows (column by column, ready for the database) of ``period``'s episodes that start in the month, and
    of its contracts' month totals."""
    contracts = period.contracts
    grid, ev = period.grid, period.evaluation
    ep = ev.episodes
    selected = np.flatnonzero(period.selected)

    month_slice = slice(1, 1 + len(days))
    checked_days, breach_days, missing_days = (
        counts[:, month_slice].tolist() for counts in ev.counts_per_day(grid.day_starts)
    )
    instants = grid.origin + 300 * np.arange(grid.n_steps + 1, dtype=np.int64)
    moments: dict[int, object] = {}

    def moment(step):
        if (value := moments.get(step)) is None:
            at = datetime.fromtimestamp(int(instants[step]), UTC)
            value = moments[step] = connection.ops.adapt_datetimefield_value(at)
        return value

    pks = [c.pk for c in contracts]
    rows = ep.row[selected]
    episodes = {
        "contract_id": [pks[r] for r in rows.tolist()],
        "start": [moment(s) for s in ep.start[selected].tolist()],
        "end": [moment(s) for s in ep.end[selected].tolist()],
        "checked_steps": ep.checked[selected].tolist(),
        "breach_steps": ep.breach[selected].tolist(),
        "missing_steps": ep.missing[selected].tolist(),
        "energy_during_stop_kwh": ep.energy_checked_kwh[selected].tolist(),
        "energy_neutralised_kwh": ep.energy_neutralised_kwh[selected].tolist(),
        "excess_kwh": ep.excess_kwh[selected].tolist(),
    }

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
    compensations = _compensations(first, period)
    days_column, inputs_column, compensation_column = [], [], []
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
        compensation_column.append(json_field.get_db_prep_save(compensations.get(r, NO_INPUTS), connection))
    months = dict(contract_id=pks, days=days_column, inputs=inputs_column, compensation=compensation_column, **totals)
    return episodes, months


def _insert(model, constants: dict, columns: dict[str, list]) -> None:
    """Insert rows given column by column (values ready for the database), with ``constants`` in every row,
    through one prepared statement (bulk_create's per-object cost is the bottleneck at 10,000 contracts)."""
    names = list(constants) + list(columns)
    fields = {f.attname: f.column for f in model._meta.concrete_fields if not f.primary_key}
    if set(names) != set(fields):
        raise RuntimeError(f"{model.__name__}: columns {sorted(names)} do not match {sorted(fields)}")
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


NO_INPUTS = compensation.compute(None, None, None).as_json()


def _compensations(month: date, period: PeriodEvaluation) -> dict[int, dict]:
    """The compensation (JSON-ready) of each contract row of ``period`` that has recorded inputs for the month;
    the others are "not computable" (NO_INPUTS)."""
    row_of = {c.pk: r for r, c in enumerate(period.contracts)}
    recorded = CompensationInput.objects.filter(month=month).select_related("producible_import")
    return {
        row_of[inputs.contract_id]: _compensation(period, row_of[inputs.contract_id], inputs)
        for inputs in recorded
        if inputs.contract_id in row_of
    }


def _compensation(period: PeriodEvaluation, row: int, recorded: CompensationInput) -> dict:
    """The compensation of contract ``row`` over the episodes ``period`` selected, with the ``recorded``
    inputs."""
    ev, ep = period.evaluation, period.evaluation.episodes
    mask = np.zeros(period.grid.n_steps, dtype=bool)
    for i in np.flatnonzero(period.selected & (ep.row == row)):
        mask[ep.start[i] : ep.end[i]] = True
    steps = compensation.StopSteps(
        value=np.round(ev.stop[row, mask].astype(np.float64), 6),
        checked=ev.checked[row, mask],
        breach=ev.breach[row, mask],
    )
    producible = None
    if recorded.producible_import_id:
        contract_pk = period.contracts[row].pk
        dense = read_dense(
            period.grid, [contract_pk], kind=CurveKind.PRODUCIBLE, curve_import=recorded.producible_import_id
        )
        producible = dense.energy[0, mask]
    inputs = compensation.CompensationInputs(
        price_eur_per_mwh=recorded.price_eur_per_mwh,
        producible_kwh=producible,
        producible_source=str(recorded.producible_import) if recorded.producible_import_id else None,
        recorded_at=iso(recorded.recorded_at),
        recorded_by=recorded.recorded_by,
    )
    return compensation.compute(recorded.rule, steps, inputs).as_json()


def record_compensation_input(
    contract: Contract,
    month: date,
    *,
    actor: str,
    price: Decimal | None = None,
    producible=None,
    rule: str = compensation.DEFAULT_RULE,
    note: str = "",
) -> CompensationInput:
    """Record (or replace) the inputs of a contract-month's compensation: a price (€/MWh) and an estimated
    producible curve (an import of kind ``producible``). Used at the month's next compliance run."""
    month = month.replace(day=1)
    if rule not in compensation.RULES:
        raise InvalidInput(gettext_noop("unknown compensation rule %(rule)r"), rule=rule)
    if price is not None and (not price.is_finite() or price < 0 or price >= Decimal("1e7")):
        raise InvalidInput(gettext_noop("the price must be a number of €/MWh between 0 and 10,000,000"))
    if producible is not None and producible.kind != CurveKind.PRODUCIBLE:
        raise InvalidInput(
            gettext_noop("import %(source)s is not an estimated producible curve"), source=str(producible)
        )
    note = check_text(note, field="note", max_length=2000, multiline=True)
    record_, created = CompensationInput.objects.update_or_create(
        contract=contract,
        month=month,
        defaults={
            "rule": rule,
            "price_eur_per_mwh": price,
            "producible_import": producible,
            "recorded_at": now(),
            "recorded_by": actor,
            "note": note,
        },
    )
    record(
        "compensation.recorded",
        actor=actor,
        contract=contract,
        month=f"{month:%Y-%m}",
        price=None if price is None else str(price),
        producible_import=getattr(producible, "pk", None),
        rule=rule,
        created=created,
    )
    return record_


def latest_run(month: date) -> ComplianceRun | None:
    return ComplianceRun.objects.filter(month=month.replace(day=1)).order_by("-started_at", "-id").first()


def stale_contracts(run: ComplianceRun, contract_pks: list[int] | None = None) -> set[int]:
    """Contracts (of ``contract_pks`` only, when given) whose curves or consignes for the run's month (± a day),
    or compensation inputs, changed after the run started."""
    days = month_days(run.month)
    window = (days[0] - timedelta(days=1), days[-1] + timedelta(days=1))
    months = {window[0].replace(day=1), run.month, window[1].replace(day=1)}
    queries = [
        CurveMonth.objects.filter(curve_import__received_at__gt=run.started_at, month__in=months),
        ConsigneVersion.objects.filter(created_at__gt=run.started_at, delivery_day__range=window),
        CompensationInput.objects.filter(recorded_at__gt=run.started_at, month=run.month),
    ]
    stale: set[int] = set()
    for query in queries:
        if contract_pks is not None:
            query = query.filter(contract_id__in=contract_pks)
        stale.update(query.values_list("contract_id", flat=True).distinct())
    return stale
