"""The monthly compliance run and its stored results, from which statements are built. ``run_compliance`` runs
outside any transaction (it commits chunk by chunk); the other services run in the caller's transaction.

A run evaluates the contracts with a consigne in the month (``evaluation.py``), a chunk of contracts at a time,
and stores each chunk's figures per contract-month and per episode (and the compensation of the contracts whose
inputs are recorded) before the next: memory is bounded by a chunk. Its results replace the month's previous
ones at once for readers (the run becomes the month's current run when complete). A re-run evaluates only the
contracts whose inputs changed and keeps the others' results. Stale results: an import, a new consigne version
or new compensation inputs do not touch results; ``stale_contracts`` says which contract-months changed since
the month's latest run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext_noop

from smartoa.audit.services import record
from smartoa.billing import compensation
from smartoa.billing.evaluation import PeriodEvaluation, evaluate_period, tolerance_settings
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

log = logging.getLogger(__name__)


def _contracts_for(first: date, last: date) -> list[Contract]:
    """Contracts with at least one consigne in the period (every one gets a result, even without stops)."""
    ids = ConsigneVersion.objects.filter(delivery_day__range=(first, last)).values("contract_id").distinct()
    return list(Contract.objects.filter(pk__in=ids).order_by("pk"))


# Contracts evaluated and written at once: the run's peak memory (about 0.4 GB per 1,000 contracts × a month,
# whatever the month's total) and the grain of its progress.
BATCH_CONTRACTS = 1000


def run_compliance(
    month: date,
    *,
    actor: str,
    tolerance=None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH_CONTRACTS,
    full: bool = False,
) -> ComplianceRun:
    """Compute the month's compliance for every contract with a consigne in it; replaces the month's results.

    A re-run (the month has a complete run with the same tolerance, and ``full`` is not asked) evaluates only
    the contracts whose inputs changed since that run started (``stale_contracts``, a contract edited, a contract
    new in the month) and keeps the others' stored results (copied, with the run that computed them).

    Consistency for readers: the new run's rows are written ``batch_size`` contracts at a time, each chunk in
    its own transaction, under the new run's id while the run is not ``complete``; readers only see complete runs
    (``latest_run``), so they keep reading the previous run until one short transaction marks the new one
    complete. The previous runs' rows are deleted after that. Memory is bounded by one chunk, never the month.
    ``progress(done, total)`` is told after each chunk (the kept contracts count as done at once). On failure the
    incomplete run and its rows are removed; the previous results stay current."""
    started = now()
    days = month_days(month)
    first, last = days[0], days[-1]
    contracts = _contracts_for(first, last)
    if not contracts:
        raise NotFound(gettext_noop("no consigne in %(month)s: nothing to check"), month=f"{first:%Y-%m}")
    total = len(contracts)
    tolerances = tolerance if tolerance is not None else tolerance_settings()
    tolerances = (float(tolerances[0]), float(tolerances[1]))
    previous = None if full else latest_run(first)
    if previous is not None and (previous.tolerance_kwh, previous.tolerance_percent) != tolerances:
        previous = None
    kept = _reusable(previous, contracts) if previous is not None else []
    kept_set = set(kept)
    todo = [c for c in contracts if c.pk not in kept_set]
    if progress is not None:
        progress(0, total)
    with transaction.atomic():
        run = ComplianceRun.objects.create(
            month=first,
            started_at=started,
            finished_at=started,
            actor=actor,
            tolerance_kwh=tolerances[0],
            tolerance_percent=tolerances[1],
            contracts=total,
            episodes=0,
            complete=False,
            recomputed=len(todo),
            reused_from=previous if kept else None,
        )
    try:
        episodes = _copy_results(previous, run, kept) if previous is not None and kept else 0
        if progress is not None and kept:
            progress(len(kept), total)
        month_value = connection.ops.adapt_datefield_value(first)
        constants = {"run_id": run.pk, "computed_by_id": run.pk, "month": month_value}
        for a in range(0, len(todo), batch_size):
            batch = todo[a : a + batch_size]
            period = evaluate_period(first, last, batch, tolerance=tolerances, all_contracts=len(batch) == total)
            found_episodes, found_months = _batch_results(first, days, period)
            del period
            with transaction.atomic():
                _insert(EpisodeResult, constants, found_episodes)
                _insert(ContractMonth, constants, found_months)
            episodes += len(found_episodes["contract_id"])
            if progress is not None:
                progress(len(kept) + a + len(batch), total)
        with transaction.atomic():  # the switch: from here on, readers see this run
            run.episodes, run.finished_at, run.complete = episodes, now(), True
            run.save(update_fields=["episodes", "finished_at", "complete"])
            record(
                "compliance.run",
                actor=actor,
                month=f"{first:%Y-%m}",
                contracts=run.contracts,
                episodes=run.episodes,
                recomputed=len(todo),
                reused=len(kept),
                reused_from=previous.pk if kept and previous is not None else None,
            )
    except BaseException:
        _discard(run)
        raise
    with transaction.atomic():  # the month's other runs' rows are no longer read by anyone who starts now
        ContractMonth.objects.filter(month=first).exclude(run=run).delete()
        EpisodeResult.objects.filter(month=first).exclude(run=run).delete()
    return run


def _reusable(previous: ComplianceRun, contracts: list[Contract]) -> list[int]:
    """The contracts (pks, in order) whose result in ``previous`` can be kept: they have one, and neither their
    curves, consignes, compensation inputs (``stale_contracts``) nor their installed power (stored in the
    result's ``inputs``; results stored without it are computed again) changed since."""
    stored = dict(ContractMonth.objects.filter(run=previous).values_list("contract_id", "inputs__installed_power"))
    changed = stale_contracts(previous)
    return [
        c.pk
        for c in contracts
        if c.pk in stored and c.pk not in changed and stored[c.pk] == float(c.installed_power)  # power: tolerance
    ]


def _copy_results(previous: ComplianceRun, run: ComplianceRun, kept: list[int]) -> int:
    """Copy ``previous``'s rows of the ``kept`` contracts under ``run`` in the database (INSERT … SELECT, nothing
    loaded here), keeping who computed them; the number of episodes copied. The contract-months by chunks of ids
    (through the (run, contract) unique index); then the episodes of the contracts copied, in one statement (one
    pass over the previous run's episodes, each checked through that index: an IN list per chunk would scan the
    run's episodes once per chunk)."""
    q = connection.ops.quote_name
    months, episodes = (q(model._meta.db_table) for model in (ContractMonth, EpisodeResult))

    def copy(model) -> tuple[str, str]:
        fields = [str(f.column) for f in model._meta.concrete_fields if not f.primary_key]
        chosen = ", ".join(
            "%s" if c == "run_id" else "COALESCE(x.computed_by_id, x.run_id)" if c == "computed_by_id" else f"x.{q(c)}"
            for c in fields
        )
        return ", ".join(q(c) for c in fields), chosen

    names, chosen = copy(ContractMonth)
    for a in range(0, len(kept), 500):
        ids = kept[a : a + 500]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {months} ({names}) SELECT {chosen} FROM {months} x "
                f"WHERE x.run_id = %s AND x.contract_id IN ({', '.join(['%s'] * len(ids))})",
                [run.pk, previous.pk, *ids],
            )
    names, chosen = copy(EpisodeResult)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {episodes} ({names}) SELECT {chosen} FROM {episodes} x WHERE x.run_id = %s "
            f"AND EXISTS (SELECT 1 FROM {months} m WHERE m.run_id = %s AND m.contract_id = x.contract_id)",
            [run.pk, previous.pk, run.pk],
        )
        return cursor.rowcount


def _discard(run: ComplianceRun) -> None:
    """Remove an incomplete run and the rows written under its id (a failed or interrupted run)."""
    try:
        with transaction.atomic():
            EpisodeResult.objects.filter(run=run).delete()
            ContractMonth.objects.filter(run=run).delete()
            ComplianceRun.objects.filter(pk=run.pk, complete=False).delete()
    except DatabaseError:  # the database itself failed: the incomplete run stays, unseen, until the next run
        log.exception("incomplete compliance run %s not removed", run.pk)


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
            "installed_power": float(contracts[r].installed_power),
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
    recorded = CompensationInput.objects.filter(month=month, contract_id__in=list(row_of)).select_related(
        "producible_import"
    )
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
    """The month's current run: its latest complete one (a run being written is not seen)."""
    runs = ComplianceRun.objects.filter(month=month.replace(day=1), complete=True)
    return runs.order_by("-started_at", "-id").first()


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
