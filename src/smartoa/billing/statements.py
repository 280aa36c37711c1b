"""Monthly billing elements (relevés), one per contract, from the month's latest compliance run.

JSON holds one nested document per contract; CSV and XLSX hold the same figures as lines (one per episode,
then one ``total`` line) from the single column definition ``COLUMNS``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np

from smartoa.billing import compensation
from smartoa.billing.models import CompensationInput, ContractMonth, EpisodeResult
from smartoa.billing.services import BillingError, evaluate_period, latest_run, stale_contracts
from smartoa.consignes.models import Acknowledgment, ConsigneVersion
from smartoa.domain.calendar import iso
from smartoa.domain.curves import month_days
from smartoa.exports.writers import Column, render
from smartoa.metering.models import CurveKind
from smartoa.metering.services import read_dense

FIGURES = (
    "checked_steps",
    "breach_steps",
    "missing_steps",
    "energy_during_stop_kwh",
    "energy_neutralised_kwh",
    "excess_kwh",
)
COLUMNS = [
    Column("contract_id", "contrat"),
    Column("month", "mois"),
    Column("line", "ligne"),
    Column("start", "début"),
    Column("end", "fin"),
    Column("episodes", "épisodes"),
    *[Column(f) for f in FIGURES],
    Column("days_with_consigne", "jours avec consigne"),
    Column("days_acknowledged", "jours acquiescés"),
    Column("days_not_acknowledged", "jours non acquiescés"),
    Column("not_acknowledged_days", "dates non acquiescées"),
    Column("compensation_status", "compensation"),
    Column("compensation_eur", "compensation (€)"),
    Column("compensation_reason", "motif"),
    Column("stale", "à recalculer"),
    Column("computed_at", "calculé le"),
]


def _figures(obj) -> dict:
    out = {}
    for name in FIGURES:
        value = getattr(obj, name)
        out[name] = round(value, 3) if isinstance(value, float) else value
    return out


def _acknowledgments(first: date, last: date, contract_pks: set[int]) -> dict[int, tuple[list, list]]:
    """Per contract: (days acknowledged, days not acknowledged) among the month's days with a consigne; a day
    is acknowledged when its consigne's current version is."""
    current: dict[int, tuple[int, int, int, date]] = {}
    versions = ConsigneVersion.objects.filter(delivery_day__range=(first, last), contract_id__in=contract_pks)
    for vid, consigne, contract, day, number in versions.values_list(
        "id", "consigne_id", "contract_id", "delivery_day", "number"
    ).iterator(chunk_size=20_000):
        if consigne not in current or current[consigne][1] < number:
            current[consigne] = (vid, number, contract, day)
    acknowledged = set(
        Acknowledgment.objects.filter(consigne__delivery_day__range=(first, last)).values_list("version_id", flat=True)
    )
    result: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    for vid, _, contract, day in current.values():
        result[contract][0 if vid in acknowledged else 1].append(day)
    return {k: (sorted(a), sorted(n)) for k, (a, n) in result.items()}


def _compensation(month: date, contract, record: CompensationInput | None) -> dict:
    if record is None:
        return compensation.compute(None, None, None).as_json()
    days = month_days(month)
    period = evaluate_period(days[0], days[-1], [contract])
    ev = period.evaluation
    ep = ev.episodes
    mask = np.zeros(period.grid.n_steps, dtype=bool)
    for i in np.flatnonzero(period.selected):
        mask[ep.start[i] : ep.end[i]] = True
    steps = compensation.StopSteps(
        value=np.round(ev.stop[0, mask].astype(np.float64), 6), checked=ev.checked[0, mask], breach=ev.breach[0, mask]
    )
    producible = None
    if record.producible_import_id:
        dense = read_dense(
            period.grid, [contract.pk], kind=CurveKind.PRODUCIBLE, curve_import=record.producible_import_id
        )
        producible = dense.energy[0, mask]
    inputs = compensation.CompensationInputs(
        price_eur_per_mwh=record.price_eur_per_mwh,
        producible_kwh=producible,
        producible_source=str(record.producible_import) if record.producible_import_id else None,
        recorded_at=iso(record.recorded_at),
        recorded_by=record.recorded_by,
    )
    return compensation.compute(record.rule, steps, inputs).as_json()


def build_statements(month: date, contract_ids: list[str] | None = None) -> list[dict]:
    """The month's statements (one per contract with a result in the latest run), as JSON-ready dicts."""
    days = month_days(month)
    first, last = days[0], days[-1]
    run = latest_run(first)
    if run is None:
        raise BillingError(f"no compliance run for {first:%Y-%m}: run 'smartoa compliance run --month {first:%Y-%m}'")
    months = ContractMonth.objects.filter(run=run).select_related("contract").order_by("contract__contract_id")
    if contract_ids is not None:
        months = months.filter(contract__contract_id__in=contract_ids)
    months = list(months)
    pks = {m.contract_id for m in months}
    episodes = defaultdict(list)
    for e in EpisodeResult.objects.filter(run=run, contract_id__in=pks).order_by("contract_id", "start"):
        episodes[e.contract_id].append({"start": iso(e.start), "end": iso(e.end), **_figures(e)})
    acks = _acknowledgments(first, last, pks)
    stale = stale_contracts(run)
    inputs = {
        c.contract_id: c
        for c in CompensationInput.objects.filter(month=first, contract_id__in=pks).select_related("producible_import")
    }
    statements = []
    for m in months:
        done, pending = acks.get(m.contract_id, ([], []))
        statements.append(
            {
                "contract_id": m.contract.contract_id,
                "month": f"{first:%Y-%m}",
                "computed_at": iso(run.finished_at),
                "stale": m.contract_id in stale,
                "tolerance": {"kwh": run.tolerance_kwh, "percent": run.tolerance_percent},
                "episodes": episodes[m.contract_id],
                "days": [{"day": d, **f} for d, f in sorted(m.days.items())],
                "days_acknowledged": [d.isoformat() for d in done],
                "days_not_acknowledged": [d.isoformat() for d in pending],
                "totals": {
                    "episodes": m.episodes,
                    **_figures(m),
                    "days_with_consigne": len(done) + len(pending),
                    "days_acknowledged": len(done),
                    "days_not_acknowledged": len(pending),
                },
                "compensation": _compensation(first, m.contract, inputs.get(m.contract_id)),
                "inputs": m.inputs,
            }
        )
    return statements


def statement_lines(statement: dict) -> list[dict]:
    """The CSV/XLSX lines of one statement: one per episode, then the total."""
    common = {"contract_id": statement["contract_id"], "month": statement["month"]}
    lines = [{**common, "line": "episode", "episodes": 1, **e} for e in statement["episodes"]]
    totals = statement["totals"]
    comp = statement["compensation"]
    lines.append(
        {
            **common,
            "line": "total",
            **totals,
            "not_acknowledged_days": " ".join(statement["days_not_acknowledged"]),
            "compensation_status": comp["status"],
            "compensation_eur": comp["amount_eur"],
            "compensation_reason": comp["reason"],
            "stale": statement["stale"],
            "computed_at": statement["computed_at"],
        }
    )
    return lines


def render_statement(statement: dict, fmt: str) -> bytes:
    return render(fmt, document=statement, rows=statement_lines(statement), columns=COLUMNS, sheet="releve")


def statement_filename(statement: dict, fmt: str) -> str:
    return f"releve_{statement['contract_id']}_{statement['month']}.{fmt}"
