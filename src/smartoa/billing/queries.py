"""Reading stored compliance results: a contract's month (the latest run, its figures for the contract, totals and
per day, and its compensation) in a constant number of queries; the back office's views of the months (the latest
run and pending request of each), of a run's totals and of its contracts. Nothing is evaluated again here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, Sum

from smartoa.billing.compensation import COMPUTED, REASONS
from smartoa.billing.models import ComplianceRequest, ComplianceRun, ContractMonth
from smartoa.billing.services import NO_INPUTS, latest_run, stale_contracts


@dataclass(frozen=True)
class DayCompliance:
    """A day's checked steps (those of its stop episodes, neutralised ones excluded), how many of them breached
    and how many had no data."""

    checked: int
    breach: int
    missing: int


@dataclass(frozen=True)
class Compensation:
    """A contract-month's compensation: an amount, or why it is not computable as a stable ``reason`` code
    (``no_inputs``, ``no_price``, ``no_producible``, ``producible_gaps`` with ``gaps`` steps, ``unknown_rule``,
    ``other``)."""

    computed: bool
    amount_eur: float | None
    reason: str | None
    gaps: int | None = None


@dataclass(frozen=True)
class MonthCompliance:
    """A contract's stored results of a month's latest compliance run."""

    run: ComplianceRun
    stale: bool  # curves, consignes or compensation inputs changed after the run started
    episodes: int
    checked_steps: int
    breach_steps: int
    missing_steps: int
    energy_during_stop_kwh: float
    energy_neutralised_kwh: float
    excess_kwh: float
    days: dict[date, DayCompliance]  # only the days with checked steps
    versions: dict[date, int]  # the consigne version the run checked, per day (days without consigne absent)
    compensation: Compensation


# Compensations stored before reasons had codes hold French text: their codes, found from that text.
_LEGACY_REASONS = [
    (re.compile(r"aucune entrée de compensation"), "no_inputs"),
    (re.compile(r"aucun prix"), "no_price"),
    (re.compile(r"aucune courbe de productible"), "no_producible"),
    (re.compile(r"productible estimé absent sur (\d+)"), "producible_gaps"),
    (re.compile(r"règle de compensation inconnue"), "unknown_rule"),
]


def compensation_of(stored: dict) -> Compensation:
    """A stored compensation (``CompensationResult.as_json()``) with its reason's code (``other``: a code this
    version does not know)."""
    if stored.get("status") == COMPUTED:
        return Compensation(True, stored.get("amount_eur"), None)
    code = stored.get("reason_code")
    if code is None:
        return _legacy(stored.get("reason") or "")
    gaps = (stored.get("reason_params") or {}).get("gaps")
    return Compensation(False, None, code if code in REASONS else "other", gaps)


def _legacy(text: str) -> Compensation:
    """The code of a reason stored as French text (results computed before reasons had codes)."""
    for pattern, code in _LEGACY_REASONS:
        if found := pattern.search(text):
            return Compensation(False, None, code, int(found.group(1)) if found.groups() else None)
    return Compensation(False, None, "other")


def month_compliance(contract_pk: int, month: date) -> tuple[ComplianceRun | None, MonthCompliance | None]:
    """The month's latest compliance run (None: never computed) and the contract's results in it (None: the run
    did not include the contract). At most five queries."""
    run = latest_run(month)
    if run is None:
        return None, None
    found = ContractMonth.objects.filter(run=run, contract_id=contract_pk).first()
    if found is None:
        return run, None
    return run, MonthCompliance(
        run=run,
        stale=contract_pk in stale_contracts(run, [contract_pk]),
        episodes=found.episodes,
        checked_steps=found.checked_steps,
        breach_steps=found.breach_steps,
        missing_steps=found.missing_steps,
        energy_during_stop_kwh=round(found.energy_during_stop_kwh, 3),
        energy_neutralised_kwh=round(found.energy_neutralised_kwh, 3),
        excess_kwh=round(found.excess_kwh, 3),
        days={
            date.fromisoformat(day): DayCompliance(f["checked"], f["breach"], f["missing"])
            for day, f in (found.days or {}).items()
        },
        versions={
            date.fromisoformat(day): number for day, number in (found.inputs or {}).get("consigne_versions", {}).items()
        },
        compensation=compensation_of(found.compensation or NO_INPUTS),
    )


# --- the back office's compliance pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class MonthOverview:
    """A month as the compliance page lists it: its latest run, and the request queued or running (if any)."""

    month: date
    last_run: ComplianceRun | None
    pending: ComplianceRequest | None


def months_overview(months: list[date]) -> list[MonthOverview]:
    """The latest run and the pending request of each of ``months`` (first days), in two queries."""
    runs: dict[date, ComplianceRun] = {}
    for run in ComplianceRun.objects.filter(month__in=months, complete=True).order_by("month", "-started_at", "-id"):
        runs.setdefault(run.month, run)
    pending = {
        r.month: r for r in ComplianceRequest.objects.filter(month__in=months, state__in=ComplianceRequest.ACTIVE)
    }
    return [MonthOverview(m, runs.get(m), pending.get(m)) for m in months]


@dataclass(frozen=True)
class MonthSummary:
    """The totals of a month's latest run over all its contracts."""

    run: ComplianceRun
    contracts: int
    episodes: int
    checked_steps: int
    breach_steps: int
    missing_steps: int
    energy_during_stop_kwh: float
    energy_neutralised_kwh: float
    excess_kwh: float
    contracts_with_breach: int
    contracts_with_missing: int
    compensation_eur: float  # the sum of the computed compensations
    compensation_computed: int  # contracts whose compensation is computed
    stale: int  # contracts whose inputs changed since the run started


ENERGIES = ("energy_during_stop_kwh", "energy_neutralised_kwh", "excess_kwh")


def month_summary(run: ComplianceRun) -> MonthSummary:
    """The run's totals (one aggregate query, one read of the compensations, the stale contracts)."""
    months = ContractMonth.objects.filter(run=run)
    totals = ("episodes", "checked_steps", "breach_steps", "missing_steps", *ENERGIES)
    sums = months.aggregate(
        contracts=Count("id"),
        contracts_with_breach=Count("id", filter=Q(breach_steps__gt=0)),
        contracts_with_missing=Count("id", filter=Q(missing_steps__gt=0)),
        **{f"sum_{name}": Sum(name) for name in totals},
    )
    amount, computed = 0.0, 0
    for stored in months.values_list("compensation", flat=True).iterator(chunk_size=2000):
        found = compensation_of(stored or NO_INPUTS)
        if found.computed:
            computed += 1
            amount += found.amount_eur or 0.0
    figures = {k.removeprefix("sum_"): (v or 0) for k, v in sums.items()}
    for name in ENERGIES:
        figures[name] = round(float(figures[name]), 3)
    return MonthSummary(
        run=run,
        **figures,
        compensation_eur=round(amount, 2),
        compensation_computed=computed,
        stale=len(stale_contracts(run)),
    )


MONTH_FILTERS = ("breach", "missing", "compensation")


def month_results(run: ComplianceRun, *, search: str = "", only: str = ""):
    """The run's contract-months (with their contract), by contract id: those whose contract id or name contains
    ``search``; ``only`` keeps those with a breach, with missing data, or with a computed compensation."""
    query = ContractMonth.objects.filter(run=run).select_related("contract").order_by("contract__contract_id")
    if search:
        query = query.filter(Q(contract__contract_id__icontains=search) | Q(contract__name__icontains=search))
    if only == "breach":
        query = query.filter(breach_steps__gt=0)
    elif only == "missing":
        query = query.filter(missing_steps__gt=0)
    elif only == "compensation":
        query = query.filter(compensation__status=COMPUTED)
    return query
