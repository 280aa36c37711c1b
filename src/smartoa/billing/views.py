"""Reusable pages: a contract's realised curve against its consigne, and its monthly statement download.

Not bound to the admin nor to an access rule: the back office wraps them for staff (``backoffice/views.py``);
the producer portal can wrap them for the contract's users with its own base template and URLs.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from smartoa.billing.evaluation import evaluate_period
from smartoa.billing.services import latest_run, stale_contracts
from smartoa.billing.statements import build_statements, render_statement, statement_filename
from smartoa.core.clock import now
from smartoa.domain.calendar import local_day_of, parse_day
from smartoa.domain.curves import month_days, parse_month
from smartoa.domain.errors import UserError
from smartoa.exports.writers import FORMATS


def _numbers(values: np.ndarray, keep: np.ndarray | None = None) -> list:
    """JSON list of rounded numbers, None for NaN (and where ``keep`` is false)."""
    out = np.round(values.astype(np.float64), 3)
    mask = np.isnan(out) if keep is None else (np.isnan(out) | ~keep)
    return [None if m else float(v) for v, m in zip(out.tolist(), mask.tolist(), strict=True)]


def curve_context(contract, *, day: date | None = None, month: date | None = None) -> dict:
    """Chart data (JSON-ready) and episode table for ``contract`` over a day or a month."""
    if day is not None:
        first = last = day
    else:
        days = month_days(month)
        first, last = days[0], days[-1]
    period = evaluate_period(first, last, [contract])
    window = period.period_steps
    ev = period.evaluation
    energy = period.energy[0, window]
    chart = {
        "x": period.grid.step_epochs()[window].tolist(),
        "energy": _numbers(energy),
        "consigne": _numbers(ev.stop[0, window]),
        "neutralised": _numbers(energy, ev.neutralised[0, window]),
        "breach": _numbers(energy, ev.breach[0, window]),
        "labels": {
            "energy": _("Énergie réalisée (kWh / 5 min)"),
            "consigne": _("Consigne (1 = arrêt)"),
            "neutralised": _("Pas neutralisés"),
            "breach": _("Pas en dépassement"),
            "time": _("Heure (Paris)"),
        },
    }
    ep = ev.episodes
    grid = period.grid
    episodes = [
        {
            "start": grid.instant(ep.start[i]),
            "end": grid.instant(ep.end[i]),
            "checked_steps": int(ep.checked[i]),
            "breach_steps": int(ep.breach[i]),
            "missing_steps": int(ep.missing[i]),
            "energy_during_stop_kwh": round(float(ep.energy_checked_kwh[i]), 3),
            "energy_neutralised_kwh": round(float(ep.energy_neutralised_kwh[i]), 3),
        }
        for i in np.flatnonzero(period.selected)
    ]
    totals = {k: sum(e[k] for e in episodes) for k in ("checked_steps", "breach_steps", "missing_steps")}
    totals["missing_data_steps"] = int(np.isnan(energy).sum())
    month_first = first.replace(day=1)
    run = latest_run(month_first)
    return {
        "contract": contract,
        "day": day,
        "month": month_first,
        "first": first,
        "last": last,
        "chart": chart,
        "episodes": episodes,
        "totals": totals,
        "run": run,
        "stale": run is not None and contract.pk in stale_contracts(run, [contract.pk]),
        "formats": sorted(FORMATS),
        "previous": (first - timedelta(days=1)) if day else (month_first - timedelta(days=1)).replace(day=1),
        "next": (last + timedelta(days=1)),
    }


def parse_period(request) -> tuple[date | None, date | None]:
    """``?day=YYYY-MM-DD`` or ``?month=YYYY-MM`` (default: the current month); Http404 when malformed."""
    try:
        if request.GET.get("day"):
            return parse_day(request.GET["day"]), None
        if request.GET.get("month"):
            return None, parse_month(request.GET["month"])
    except UserError as exc:
        raise Http404(str(exc)) from None
    return None, local_day_of(now()).replace(day=1)


def contract_curve_page(
    request,
    contract,
    *,
    statement_url,
    curve_url,
    base_template: str,
    template: str = "billing/contract_curve.html",
    extra: dict | None = None,
):
    """Render the curve page. ``statement_url(month_text, fmt)`` and ``curve_url`` let the caller keep its URLs;
    ``extra`` goes to the template as is (the caller's frame)."""
    day, month = parse_period(request)
    context = curve_context(contract, day=day, month=month)
    month_text = f"{context['month']:%Y-%m}"
    context.update(
        base_template=base_template,
        curve_url=curve_url,
        downloads=[(fmt, statement_url(month_text, fmt)) for fmt in context["formats"]],
        **(extra or {}),
    )
    return render(request, template, context)


def statement_response(contract, month_text: str, fmt: str) -> HttpResponse:
    """The contract's statement for the month as a download; Http404 if there is none."""
    if fmt not in FORMATS:
        raise Http404("unknown format")
    try:
        month = parse_month(month_text)
        [statement] = build_statements(month, [contract.contract_id]) or [None]
    except UserError as exc:
        raise Http404(str(exc)) from None
    if statement is None:
        raise Http404("no statement for this contract and month")
    response = HttpResponse(render_statement(statement, fmt), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{statement_filename(statement, fmt)}"'
    return response
