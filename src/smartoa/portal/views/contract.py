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
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from smartoa.audit.services import record
from smartoa.consignes.acknowledgments import day_states
from smartoa.consignes.exports import consignes_file
from smartoa.consignes.queries import current_schedules, current_version, version_history
from smartoa.contracts.services import set_display_name
from smartoa.core.addresses import client_ip
from smartoa.core.clock import now
from smartoa.core.formats import day_text, moment_text
from smartoa.domain.acknowledgment import DayAcknowledgment, Status
from smartoa.domain.calendar import local_day_of, parse_day
from smartoa.domain.errors import UserError
from smartoa.domain.schedule import Period, changes, periods_from_json
from smartoa.exports.writers import FORMATS
from smartoa.portal.access import Holding, contract_for
from smartoa.portal.acknowledging import acknowledge_shown
from smartoa.web.messages import user_message
from smartoa.web.timeline import Timeline, timeline


@dataclass(frozen=True)
class Day:
    day: date
    periods: tuple[Period, ...] | None
    timeline: Timeline
    state: DayAcknowledgment

    @property
    def offers_acknowledgment(self) -> bool:
        """A button to acknowledge: the day is open and its current version is not acknowledged yet (a version
        already acknowledged offers nothing more; a modification voids it and offers it again)."""
        return self.state.can_acknowledge and self.state.status in (Status.TO_DO, Status.VOIDED)

    @property
    def refreshing(self) -> bool:
        """While the day is open, its block asks every half minute whether it changed."""
        return not self.state.locked

    @property
    def signature(self) -> str:
        """What the page shows of the day's state, in short: the block is sent again when this changes."""
        s = self.state
        deadline = int(s.deadline.timestamp()) if s.deadline else 0
        return f"{s.version or 0}.{s.status}.{int(s.locked)}.{deadline}"


@dataclass(frozen=True)
class Result:
    """What a day's block announces: ``kind`` ``success``, ``error`` or ``info``, and the text."""

    kind: str
    text: str


def days_of(holding: Holding, days: list[date]) -> list[Day]:
    """Each day's schedule and acknowledgment state for the contract."""
    pk = holding.contract.pk
    found = []
    for day in days:
        periods = current_schedules(day, [pk]).get(pk)
        found.append(Day(day, periods, timeline(day, periods), day_states([pk], day)[pk]))
    return found


RESULTS = "day_results"  # the session key of acknowledgment results to show in their day's block (without htmx)


def remember_result(request, contract_id: str, day: date, result: Result) -> None:
    """Keep ``result`` for the next display of the contract's page, in the block of ``day``."""
    results = request.session.get(RESULTS, {})
    results[f"{contract_id}/{day.isoformat()}"] = [result.kind, result.text]
    request.session[RESULTS] = results


def take_results(request, contract_id: str) -> dict[date, Result]:
    """The results kept for the contract's days, removed from the session."""
    results = request.session.get(RESULTS, {})
    mine = {key: value for key, value in results.items() if key.startswith(f"{contract_id}/")}
    if mine:
        request.session[RESULTS] = {key: value for key, value in results.items() if key not in mine}
    return {date.fromisoformat(key.split("/", 1)[1]): Result(*value) for key, value in mine.items()}


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
        results = take_results(request, contract_id)
        context = {
            "holding": holding,
            "contract": holding.contract,
            "days": [
                {"d": d, "result": results.get(d.day)} for d in days_of(holding, [today, today + timedelta(days=1)])
            ],
            "name_form": NameForm(initial={"display_name": holding.contract.display_name}),
            "formats": sorted(FORMATS),
            "now": now(),
            "tab": "consignes",
        }
        return render(request, "portal/contract/page.html", context)


class AcknowledgeView(View):
    """Acknowledge the day's version the page showed. The result is shown in the day's block: with htmx, the
    block is sent again with the result in its live region; without, the page is shown again at the block."""

    def post(self, request, contract_id, day):
        holding = contract_for(request.user, contract_id)
        day = day_or_404(day)
        try:
            ack = acknowledge_shown(request, holding.contract, day, request.POST.get("version", ""))
        except UserError as exc:
            result = Result("error", user_message(exc))
        else:
            text = _("Acquiescement enregistré : version %(v)s de la consigne du %(day)s, le %(at)s.")
            result = Result(
                "success",
                text % {"v": ack.version.number, "day": day_text(day), "at": moment_text(ack.acknowledged_at)},
            )
        if request.htmx:
            return _block(request, holding, day, result)
        remember_result(request, contract_id, day, result)
        return redirect(reverse("portal:contract", args=[contract_id]) + f"#day-{day.isoformat()}")


def _block(request, holding: Holding, day: date, result: Result | None) -> HttpResponse:
    """The day's block (its body, and its live region's new text out of band)."""
    context = {"contract": holding.contract, "d": days_of(holding, [day])[0], "result": result}
    return render(request, "portal/contract/day_update.html", context)


class DayBlockView(View):
    """A page left open asks whether the day changed (``etat``: the state it shows): 204 when it did not; the
    block, with a sentence saying what changed, when a version was published or the HLAR passed or moved. These
    requests do not keep an idle session alive."""

    def get(self, request, contract_id, day):
        request.passive_session = True
        holding = contract_for(request.user, contract_id)
        day = day_or_404(day)
        shown = request.GET.get("etat", "")
        d = days_of(holding, [day])[0]
        if shown == d.signature:
            return HttpResponse(status=204)
        return _block(request, holding, day, Result("info", _what_changed(shown, d)))


def _what_changed(shown: str, d: Day) -> str:
    """The sentence announcing a day's new state to someone who saw ``shown`` (a signature)."""
    version = shown.split(".", 1)[0]
    state = d.state
    if state.locked:
        return _("L'HLAR est passée : les acquiescements du %(day)s sont fermés.") % {"day": day_text(d.day)}
    if state.version and version != str(state.version):
        if version in ("", "0"):
            return _("La consigne du %(day)s vient d'être publiée : version %(v)s à acquiescer.") % {
                "day": day_text(d.day),
                "v": state.version,
            }
        return _("La consigne du %(day)s a été modifiée : la version %(v)s est à acquiescer.") % {
            "day": day_text(d.day),
            "v": state.version,
        }
    return _("L'HLAR du %(day)s a changé : acquiescement possible jusqu'au %(at)s.") % {
        "day": day_text(d.day),
        "at": moment_text(state.deadline),
    }


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
