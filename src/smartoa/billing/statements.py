"""Monthly billing elements (relevés), one per contract, from the stored results of the month's latest
compliance run (nothing is evaluated again here).

JSON holds one nested document per contract; CSV and XLSX hold the same figures as lines (one per episode,
then one ``total`` line) from the single column definition ``COLUMNS``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from smartoa.billing.compensation import COMPUTED, REASONS
from smartoa.billing.models import ComplianceRun, ContractMonth, EpisodeResult
from smartoa.billing.services import NO_INPUTS, latest_run, stale_contracts
from smartoa.consignes.queries import current_rows
from smartoa.core.formats import month_text
from smartoa.domain.calendar import iso, parse_day, parse_instant
from smartoa.domain.curves import month_days, parse_month
from smartoa.domain.errors import Conflict, NotFound
from smartoa.exports.writers import Column, render

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


def _month_words(code: str) -> str:
    return month_text(parse_month(code))


def _line_words(code: str) -> str:
    return str({"episode": _("épisode"), "total": _("total du mois")}[code])


def _compensation_words(code: str) -> str:
    return str(_("calculée") if code == COMPUTED else _("non calculable"))


# The statement as people read it (the portal's and back office's downloads): French headers, words for codes
# (each followed by its code), Paris times, the reason of a missing compensation in the reader's language.
PEOPLE_COLUMNS = [
    Column("contract_id", _("Contrat")),
    Column("month", _("Mois"), words=_month_words),
    Column("line", _("Ligne"), words=_line_words),
    Column("start", _("Début (heure de Paris)")),
    Column("end", _("Fin (heure de Paris)")),
    Column("episodes", _("Épisodes")),
    Column("checked_steps", _("Pas contrôlés")),
    Column("breach_steps", _("Pas en dépassement")),
    Column("missing_steps", _("Pas sans donnée")),
    Column("energy_during_stop_kwh", _("Énergie pendant l'arrêt (kWh)")),
    Column("energy_neutralised_kwh", _("Énergie neutralisée (kWh)")),
    Column("excess_kwh", _("Énergie en dépassement (kWh)")),
    Column("days_with_consigne", _("Jours avec consigne")),
    Column("days_acknowledged", _("Jours acquiescés")),
    Column("days_not_acknowledged", _("Jours non acquiescés")),
    Column("not_acknowledged_days", _("Dates non acquiescées")),
    Column("compensation_status", _("Compensation"), words=_compensation_words),
    Column("compensation_eur", _("Compensation (€)")),
    Column("compensation_reason", _("Motif")),
    Column("compensation_reason_code", _("Motif (code)")),
    Column("stale", _("À recalculer")),
    Column("computed_at", _("Calculé le (heure de Paris)")),
]


def _figures(obj) -> dict:
    out = {}
    for name in FIGURES:
        value = getattr(obj, name)
        out[name] = round(value, 3) if isinstance(value, float) else value
    return out


def acknowledgment_days(first: date, last: date, contract_pks: list[int]) -> dict[int, tuple[list, list]]:
    """Per contract: (days acknowledged, days not acknowledged) among the days in [first, last] with a consigne;
    a day is acknowledged when its consigne's current version is."""
    result: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    for contract_pk, day, _version, _number, acknowledged in current_rows(first, last, contract_pks, acknowledged=True):
        result[contract_pk][0 if acknowledged else 1].append(day)
    return {k: (sorted(a), sorted(n)) for k, (a, n) in result.items()}


class MonthRecomputed(Conflict):
    """The month's current run changed while its statements were being read."""

    code = "month_recomputed"


STATEMENT_CHUNK = 1000  # contracts per chunk when a month's statements are built all at once


def build_statements(month: date, contract_ids: list[str] | None = None) -> list[dict]:
    """The month's statements, built from the stored results of its latest compliance run (one per contract
    with a result, of ``contract_ids`` only when given), as JSON-ready dicts. NotFound without a run."""
    return list(iter_statements(month, contract_ids))


def iter_statements(month: date, contract_ids: list[str] | None = None, *, chunk: int = STATEMENT_CHUNK):
    """The month's statements (as ``build_statements``), built and yielded ``chunk`` contracts at a time (in
    contract id order): a month's exports hold one chunk in memory, not the month. The run is chosen once, so
    every statement comes from the same run; its rows are deleted once a later run is complete, so a reader
    still iterating then gets MonthRecomputed rather than a truncated month. NotFound without a run."""
    days = month_days(month)
    first, last = days[0], days[-1]
    run = latest_run(first)
    if run is None:
        raise NotFound(
            gettext_noop("no compliance run for %(month)s: run 'smartoa compliance run --month %(month)s'"),
            month=f"{first:%Y-%m}",
        )
    query = ContractMonth.objects.filter(run=run).select_related("contract", "computed_by")
    query = query.order_by("contract__contract_id")
    if contract_ids is not None:
        query = query.filter(contract__contract_id__in=contract_ids)
    after = None
    while True:
        page = query if after is None else query.filter(contract__contract_id__gt=after)
        months = list(page[:chunk])
        if after is not None and latest_run(first) != run:  # computed again meanwhile: its rows are going away
            raise MonthRecomputed(
                gettext_noop("%(month)s was computed again while its statements were being read: start again"),
                month=f"{first:%Y-%m}",
            )
        if not months:
            return
        after = months[-1].contract.contract_id
        yield from _statements(first, last, run, months)
        if len(months) < chunk:
            return


def _statements(first: date, last: date, run: ComplianceRun, months: list) -> list[dict]:
    """The statements of ``months`` (ContractMonth rows of ``run``, one chunk)."""
    pks = [m.contract_id for m in months]
    episodes = defaultdict(list)
    # by month and contract ids: the (month, contract, start) index, not a pass over the run's episodes per chunk
    found = EpisodeResult.objects.filter(run=run, month=first, contract_id__in=pks).order_by("contract_id", "start")
    for e in found:
        episodes[e.contract_id].append({"start": iso(e.start), "end": iso(e.end), **_figures(e)})
    acks = acknowledgment_days(first, last, pks)
    stale = stale_contracts(run, pks)
    statements = []
    for m in months:
        done, pending = acks.get(m.contract_id, ([], []))
        by = m.computed_by or run  # the run that evaluated it (an earlier one when a re-run kept it)
        statements.append(
            {
                "contract_id": m.contract.contract_id,
                "month": f"{first:%Y-%m}",
                "computed_at": iso(by.finished_at),
                "run": run.pk,
                "computed_by_run": by.pk,
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
                "compensation": m.compensation or NO_INPUTS,
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


def reason_text(compensation: dict) -> str:
    """Why a compensation is missing, in the reader's language (a code this version does not know: as stored)."""
    code = compensation.get("reason_code")
    if code in REASONS:
        return gettext(REASONS[code]) % (compensation.get("reason_params") or {})
    return compensation.get("reason") or ""


def people_lines(statement: dict) -> list[dict]:
    """The statement's lines for people: the same figures, with dates and times as values and the reason in
    words."""
    lines = []
    for line in statement_lines(statement):
        row = {**line, "start": None, "end": None}
        for key in ("start", "end", "computed_at"):
            if line.get(key):
                row[key] = parse_instant(line[key])
        if line["line"] == "total":
            comp = statement["compensation"]
            row["not_acknowledged_days"] = tuple(parse_day(d) for d in statement["days_not_acknowledged"])
            row["compensation_reason"] = reason_text(comp)
            row["compensation_reason_code"] = comp.get("reason_code") or None
        lines.append(row)
    return lines


def render_statement(statement: dict, fmt: str, *, for_people: bool = True) -> bytes:
    """The statement in ``fmt``: JSON the document; CSV and Excel its lines, for people unless ``for_people`` is
    False (the command line's files, for machines: keys, ISO dates, codes)."""
    if for_people and fmt != "json":
        rows, columns = people_lines(statement), PEOPLE_COLUMNS
    else:
        rows, columns = statement_lines(statement), COLUMNS
    return render(fmt, document=statement, rows=rows, columns=columns, sheet="releve", for_people=for_people)


def statement_filename(statement: dict, fmt: str) -> str:
    return f"releve_{statement['contract_id']}_{statement['month']}.{fmt}"
