"""A contract's page: the consigne of today and tomorrow (timeline and table), its acknowledgment with an
unmistakable state, the versions of a day and what changed between them, the day's document exactly as the API
returns it (and as CSV or Excel), the installation's display name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from smartoa.audit.services import record
from smartoa.consignes.acknowledgments import day_states
from smartoa.consignes.exports import consignes_file
from smartoa.consignes.queries import current_schedules, current_version, version_history
from smartoa.contracts.services import set_display_name
from smartoa.core.clock import now
from smartoa.domain.acknowledgment import DayAcknowledgment
from smartoa.domain.calendar import local_day_of, parse_day
from smartoa.domain.errors import UserError
from smartoa.domain.schedule import Period, changes, periods_from_json
from smartoa.exports.writers import FORMATS
from smartoa.portal.access import Holding, contract_for
from smartoa.portal.acknowledging import acknowledge_shown
from smartoa.portal.messages import user_message
from smartoa.portal.security import client_ip
from smartoa.portal.timeline import Timeline, timeline


@dataclass(frozen=True)
class Day:
    day: date
    periods: tuple[Period, ...] | None
    timeline: Timeline
    state: DayAcknowledgment


def days_of(holding: Holding, days: list[date]) -> list[Day]:
    """Each day's schedule and acknowledgment state for the contract."""
    pk = holding.contract.pk
    found = []
    for day in days:
        periods = current_schedules(day, [pk]).get(pk)
        found.append(Day(day, periods, timeline(day, periods), day_states([pk], day)[pk]))
    return found


def day_or_404(text: str) -> date:
    try:
        return parse_day(text)
    except UserError:
        raise Http404("no such day") from None


class NameForm(forms.Form):
    display_name = forms.CharField(
        label=gettext_lazy("Nom d'usage de l'installation"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Visible des utilisateurs du contrat seulement ; vide : le nom du contrat."),
    )


class ContractView(View):
    def get(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        today = local_day_of(now())
        context = {
            "holding": holding,
            "contract": holding.contract,
            "days": days_of(holding, [today, today + timedelta(days=1)]),
            "name_form": NameForm(initial={"display_name": holding.contract.display_name}),
            "formats": sorted(FORMATS),
            "now": now(),
            "tab": "consignes",
        }
        return render(request, "portal/contract/page.html", context)


class AcknowledgeView(View):
    """Acknowledge the day's version the page showed; with htmx, answer the day's block only."""

    def post(self, request, contract_id, day):
        holding = contract_for(request.user, contract_id)
        day = day_or_404(day)
        version = request.POST.get("version", "")
        try:
            acknowledge_shown(request, holding.contract, day, version)
        except UserError as exc:
            messages.error(request, user_message(exc))
        else:
            messages.success(
                request, _("Acquiescement enregistré pour le %(day)s.") % {"day": day.strftime("%d/%m/%Y")}
            )
        if request.htmx:
            context = {"holding": holding, "contract": holding.contract, "d": days_of(holding, [day])[0]}
            return render(request, "portal/contract/day.html", context)
        return redirect("portal:contract", contract_id=contract_id)


class DayView(View):
    """Every version of a day, what changed from one to the next, and who acknowledged which."""

    def get(self, request, contract_id, day):
        holding = contract_for(request.user, contract_id)
        day = day_or_404(day)
        versions = version_history(holding.contract.pk, day)
        if not versions:
            raise Http404("nothing published that day")
        history, previous = [], None
        for v in versions:
            periods = periods_from_json(v.periods)
            history.append(
                {
                    "version": v,
                    "timeline": timeline(day, periods),
                    "periods": periods,
                    "changes": changes(previous, periods) if previous is not None else None,
                    "acknowledgments": sorted(v.acknowledgments.all(), key=lambda a: (a.acknowledged_at, a.pk)),
                }
            )
            previous = periods
        context = {
            "holding": holding,
            "contract": holding.contract,
            "day": day,
            "history": list(reversed(history)),
            "state": day_states([holding.contract.pk], day)[holding.contract.pk],
            "formats": sorted(FORMATS),
            "tab": "consignes",
        }
        return render(request, "portal/contract/day_history.html", context)


class DayDocumentView(View):
    """The day's current consigne: JSON exactly as the API returns it, or CSV / Excel (a line per period)."""

    def get(self, request, contract_id, day, fmt):
        holding = contract_for(request.user, contract_id)
        day = day_or_404(day)
        if fmt not in FORMATS:
            raise Http404("unknown format")
        version = current_version(holding.contract.pk, day)
        if version is None:
            raise Http404("nothing published that day")
        contract = holding.contract
        body = version.document.encode() if fmt == "json" else consignes_file(contract.contract_id, [version], fmt)
        record(
            "export.consigne",
            actor=request.user.email,
            user=request.user,
            contract=contract,
            ip=client_ip(request),
            day=day.isoformat(),
            format=fmt,
        )
        response = HttpResponse(body, content_type=FORMATS[fmt])
        response["Content-Disposition"] = f'attachment; filename="effacement_{contract.contract_id}_{day}.{fmt}"'
        return response


class RenameView(View):
    def post(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        form = NameForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    set_display_name(
                        holding.contract,
                        form.cleaned_data["display_name"],
                        actor=request.user.email,
                        ip=client_ip(request),
                    )
            except UserError as exc:
                messages.error(request, user_message(exc))
            else:
                messages.success(request, _("Nom d'usage enregistré."))
        else:
            messages.error(request, _("Ce nom ne convient pas : 100 caractères au plus."))
        return redirect("portal:contract", contract_id=contract_id)
