"""The audit log: filtered by contract, account, action (or family of actions) and period, newest first,
paginated, exported as CSV or Excel from the same columns."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from smartoa.audit.queries import EventFilter, action_names, events, families
from smartoa.audit.services import record
from smartoa.backoffice.access import StaffView, actor
from smartoa.backoffice.forms import AuditFilterForm
from smartoa.backoffice.tables import EXPORT_FORMATS, Column, export_response, page_of, query_without
from smartoa.core.addresses import client_ip

AUDIT_COLUMNS = (
    Column("at", _("Date (heure de Paris)"), show="datetime"),
    Column("action", _("Action"), show="action"),
    Column("actor", _("Par")),
    Column("contract", _("Contrat"), show="contract"),
    Column("account", _("Compte concerné")),
    Column("ip", _("Adresse IP")),
    Column("details", _("Détails"), show="json"),
)
MAX_EXPORT = 200_000


def audit_rows(query):
    for event in query:
        yield {
            "at": event.at,
            "action": event.action,
            "actor": event.actor,
            "contract": event.contract.contract_id if event.contract else None,
            "account": event.user.email if event.user else None,
            "ip": event.ip,
            "details": event.details or None,
        }


class AuditView(StaffView):
    nav = "audit"
    template = "backoffice/audit.html"

    def get(self, request):
        actions = action_names()
        form = AuditFilterForm(request.GET, actions=actions, families=families(actions))
        wanted = EventFilter()
        if form.is_valid():
            data = form.cleaned_data
            wanted = EventFilter(data["contract"], data["account"], data["action"], data["start"], data["end"])
        query = events(wanted)
        fmt = request.GET.get("export")
        if fmt in EXPORT_FORMATS and form.is_valid():
            record("export.audit", actor=actor(request), ip=client_ip(request), format=fmt, filters=_described(wanted))
            rows = audit_rows(query[:MAX_EXPORT].iterator(chunk_size=2000))
            return export_response(fmt, rows, AUDIT_COLUMNS, name="journal_audit")
        page = page_of(request, query)
        context = self.context(
            form=form,
            columns=AUDIT_COLUMNS,
            rows=list(audit_rows(page.object_list)),
            page=page,
            query=query_without(request, "page", "export"),
            formats=EXPORT_FORMATS,
            max_export=MAX_EXPORT,
        )
        return render(request, self.template, context, status=200 if form.is_valid() else 400)


def _described(wanted: EventFilter) -> dict:
    return {
        "contract_id": wanted.contract_id,
        "account": wanted.account,
        "action": wanted.action,
        "start": wanted.start.isoformat() if wanted.start else "",
        "end": wanted.end.isoformat() if wanted.end else "",
    }
