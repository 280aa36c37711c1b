"""Today's control screen (``/backoffice/``), the page an operator opens at 14:00: the publication of tomorrow
(D+1), its acknowledgment board — counts by state, the contracts still missing first, filtered by state,
paginated, exported as CSV or Excel —, when each contract's machines were last seen (API call, event stream,
webhook), the early warning (D+1 not acknowledged by contracts whose machines have had no contact since its
current version was published, or for 24 h: ``backoffice/contact.py``), the time left before HLAR, and
what runs behind: the e-mail and webhook deliveries that fail, the periodic jobs that did not run."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from smartoa.audit.services import record
from smartoa.backoffice.access import StaffView, actor
from smartoa.backoffice.contact import LastSeen, early_warning, last_seen
from smartoa.backoffice.forms import BoardForm
from smartoa.backoffice.queries import board_contracts, board_rows, board_summary, deadlines_of, tomorrow
from smartoa.backoffice.tables import EXPORT_FORMATS, Column, export_response, page_of, query_without
from smartoa.core.addresses import client_ip
from smartoa.core.clock import now
from smartoa.domain.acknowledgment import Status
from smartoa.jobs.health import job_states
from smartoa.notifications.queries import delivery_counts, failing_deliveries

FAILING_SHOWN = 20

BOARD_COLUMNS = (
    Column("contract_id", _("Contrat"), show="contract"),
    Column("name", _("Installation")),
    Column("state", _("État"), show="state"),
    Column("version", _("Version en vigueur")),
    Column("acknowledged_version", _("Version acquiescée")),
    Column("acknowledged_by", _("Acquiescée par")),
    Column("acknowledged_at", _("Le (heure de Paris)"), show="datetime"),
    Column("channel", _("Canal"), show="channel"),
    Column("accounts", _("Comptes"), show="lines"),
    Column("api_at", _("Dernier appel API (heure de Paris)"), show="datetime"),
    Column("api_ip", _("Adresse du dernier appel API")),
    Column("stream_at", _("Dernière connexion au flux d'événements (heure de Paris)"), show="datetime"),
    Column("stream_ip", _("Adresse de la dernière connexion au flux")),
    Column("webhook_at", _("Dernier webhook livré (heure de Paris)"), show="datetime"),
)


def with_last_seen(rows: list[dict], contracts) -> list[dict]:
    """The board's rows with when their contract's machines were last seen (``seen``, and its parts for the
    exports' columns); ``contracts``: the rows' contracts, in the same order."""
    contracts = list(contracts)
    seen = last_seen(c.pk for c in contracts)
    for row, contract in zip(rows, contracts, strict=True):
        row["seen"] = found = seen.get(contract.pk, LastSeen())
        row.update(
            api_at=found.api_at,
            api_ip=found.api_ip,
            stream_at=found.stream_at,
            stream_ip=found.stream_ip,
            webhook_at=found.webhook_at,
        )
    return rows


def warning_before_hlar(day, locked: bool):
    """The early warning of D+1 while its HLAR has not passed (None after: what is missing is then missed, and the
    operators' alert says so). ``day``, ``locked``: the board's day and whether its HLAR has passed."""
    d1 = tomorrow()
    if locked if day == d1 else deadlines_of(d1).locked:
        return None
    return early_warning(d1)


class ControlView(StaffView):
    nav = "control"
    template = "backoffice/control.html"

    def get(self, request):
        form = BoardForm(request.GET or None)
        day, state = tomorrow(), None
        if form.is_valid():
            day = form.cleaned_data["day"] or day
            state = Status(form.cleaned_data["state"]) if form.cleaned_data["state"] else None
        if not form.is_bound:
            form = BoardForm(initial={"day": day})
        summary = board_summary(day)
        contracts = board_contracts(day, locked=summary.locked, state=state)
        fmt = request.GET.get("export")
        if fmt in EXPORT_FORMATS:
            record(
                "export.board",
                actor=actor(request),
                ip=client_ip(request),
                day=day.isoformat(),
                state=state.value if state else "",
                format=fmt,
            )
            everything = list(contracts)
            rows = with_last_seen(board_rows(day, everything, every_contract=True), everything)
            return export_response(fmt, rows, BOARD_COLUMNS, name=f"acquiescements_{day.isoformat()}")
        page = page_of(request, contracts)
        shown = list(page.object_list)
        context = self.context(
            form=form,
            day=day,
            state=state,
            summary=summary,
            columns=BOARD_COLUMNS,
            rows=with_last_seen(board_rows(day, shown), shown),
            warning=warning_before_hlar(day, summary.locked),
            page=page,
            query=query_without(request, "page", "export"),
            formats=EXPORT_FORMATS,
            deliveries=delivery_counts(),
            failing=failing_deliveries(FAILING_SHOWN),
            jobs=job_states(now()),
        )
        return render(request, self.template, context, status=200 if form.is_valid() or not form.is_bound else 400)
