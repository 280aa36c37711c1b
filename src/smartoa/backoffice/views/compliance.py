"""Compliance: the months with their latest run, running (again) a month's compliance as a job on the worker with
its progress, the recorded requests; a month's statements on screen (the summary over all contracts, each
contract's statement beside its downloads). The same service and refusals as ``smartoa compliance run``
(``billing/requests.py``)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _

from smartoa.accounts.roles import COMPLIANCE
from smartoa.backoffice.access import StaffView, actor, operator_write
from smartoa.backoffice.tables import page_of, query_without
from smartoa.billing.models import ComplianceRequest
from smartoa.billing.queries import MONTH_FILTERS, compensation_of, month_results, month_summary, months_overview
from smartoa.billing.requests import RunPending, error_of, request_run
from smartoa.billing.services import NO_INPUTS, latest_run, stale_contracts
from smartoa.billing.statements import build_statements, reason_text
from smartoa.core.clock import now
from smartoa.domain.calendar import FIRST_DAY, LAST_DAY, local_day_of, parse_day, parse_instant
from smartoa.domain.curves import parse_month
from smartoa.domain.errors import UserError
from smartoa.exports.writers import FORMATS
from smartoa.web.messages import user_message

MONTHS_SHOWN = 12
REQUESTS_PER_PAGE = 20
FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel", "json": "JSON"}


class MonthForm(forms.Form):
    month = forms.CharField(
        label=_("Mois"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "AAAA-MM"}),
        help_text=_("Au format AAAA-MM, par exemple 2026-11."),
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_month(self) -> date:
        text = self.cleaned_data["month"].strip()
        try:
            month = date.fromisoformat(f"{text}-01") if len(text) == 7 else None
        except ValueError:
            month = None
        if month is None:
            raise forms.ValidationError(_("Indiquez un mois au format AAAA-MM, par exemple 2026-11."))
        if not FIRST_DAY <= month <= LAST_DAY:
            raise forms.ValidationError(_("Choisissez un mois entre 2000 et 2099."))
        return month


class StatementFilterForm(forms.Form):
    q = forms.CharField(label=_("Contrat ou installation"), required=False, max_length=100)
    only = forms.ChoiceField(
        label=_("Afficher"),
        required=False,
        choices=[
            ("", _("Tous les contrats")),
            ("breach", _("Avec dépassement")),
            ("missing", _("Avec données manquantes")),
            ("compensation", _("Avec compensation calculée")),
        ],
    )


def recent_months(count: int = MONTHS_SHOWN) -> list[date]:
    """The current month (Paris) and the ``count - 1`` before it, newest first."""
    month = local_day_of(now()).replace(day=1)
    months = []
    for _i in range(count):
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return months


def month_of(text: str) -> date:
    """The month of a URL (``2026-11``); 404 otherwise."""
    try:
        return parse_month(text)
    except UserError:
        raise Http404("not a month") from None


class ComplianceView(StaffView):
    """The months with their latest run and a button to run or re-run each; a month chosen by hand; the requests
    recorded, newest first."""

    nav = "compliance"
    permission = COMPLIANCE  # its forms post to RunView
    template = "backoffice/compliance/index.html"

    def get(self, request):
        return self.page(request, MonthForm(initial={"month": f"{recent_months(2)[1]:%Y-%m}"}))

    def page(self, request, form, *, error: str = "", status: int = 200):
        requests = page_of(request, ComplianceRequest.objects.all(), REQUESTS_PER_PAGE)
        context = self.context(
            form=form,
            error=error,
            months=months_overview(recent_months()),
            requests=[(r, error_of(r)) for r in requests.object_list],
            page=requests,
            query=query_without(request, "page"),
        )
        return render(request, self.template, context, status=status)


class RunView(ComplianceView):
    """Queue a month's run; re-running a month that has results asks for a confirmation first."""

    confirm_template = "backoffice/compliance/confirm.html"

    def get(self, request):
        return redirect("backoffice:compliance")

    def post(self, request):
        form = MonthForm(request.POST)
        if not form.is_valid():
            return self.page(request, form, status=400)
        month = form.cleaned_data["month"]
        previous = latest_run(month)
        if previous is not None and not form.cleaned_data["confirm"]:
            context = self.context(month=month, previous=previous, stale=len(stale_contracts(previous)))
            return render(request, self.confirm_template, context)
        try:
            with operator_write(request):
                queued = request_run(month, actor=actor(request))
        except RunPending as exc:
            return self.page(request, form, error=user_message(exc), status=409)
        except UserError as exc:
            return self.page(request, form, error=user_message(exc), status=400)
        return redirect("backoffice:compliance-request", queued.pk)


class RequestView(StaffView):
    """One request: its state and progress (updating by itself while queued or running), its outcome."""

    nav = "compliance"
    template = "backoffice/compliance/request.html"

    def get(self, request, pk):
        found = get_object_or_404(ComplianceRequest, pk=pk)
        return render(request, self.template, self.context(request_=found, error=error_of(found)))


class ProgressView(RequestView):
    """The progress fragment, polled by the request's page (htmx) while the run is queued or running."""

    template = "backoffice/compliance/progress.html"


class MonthView(StaffView):
    """A month's statements: the totals over all contracts, then each contract's figures (filtered, paginated)
    with a link to its statement."""

    nav = "compliance"
    template = "backoffice/compliance/month.html"

    def get(self, request, month):
        first = month_of(month)
        run = latest_run(first)
        form = StatementFilterForm(request.GET)
        search, only = "", ""
        if form.is_valid():
            search, only = form.cleaned_data["q"].strip(), form.cleaned_data["only"]
        context = self.context(month=first, run=run, form=form)
        if run is not None:
            page = page_of(request, month_results(run, search=search, only=only if only in MONTH_FILTERS else ""))
            stale = stale_contracts(run, [m.contract_id for m in page.object_list])
            context.update(
                summary=month_summary(run),
                rows=[(m, compensation_of(m.compensation or NO_INPUTS), m.contract_id in stale) for m in page],
                page=page,
                query=query_without(request, "page"),
                filtered=bool(search or only),
            )
        return render(request, self.template, context, status=200 if form.is_valid() else 400)


class StatementView(StaffView):
    """One contract's statement for the month, on screen, beside its downloads."""

    nav = "compliance"
    template = "backoffice/compliance/statement.html"

    def get(self, request, month, contract_id):
        first = month_of(month)
        try:
            [statement] = build_statements(first, [contract_id]) or [None]
        except UserError:
            statement = None
        if statement is None:
            raise Http404("no statement for this contract and month")
        context = self.context(
            month=first,
            statement=statement,
            episodes=[
                {**e, "start": parse_instant(e["start"]), "end": parse_instant(e["end"])} for e in statement["episodes"]
            ],
            days=[{**d, "day": parse_day(d["day"])} for d in statement["days"]],
            not_acknowledged=[parse_day(d) for d in statement["days_not_acknowledged"]],
            computed_at=parse_instant(statement["computed_at"]),
            compensation=compensation_of(statement["compensation"]),
            reason=reason_text(statement["compensation"]),
            downloads=[(FORMAT_LABELS.get(fmt, fmt), fmt) for fmt in sorted(FORMATS)],
        )
        return render(request, self.template, context)
