"""The "Contrats" page: every contract of the account with its role, tomorrow's consigne at a glance (timeline,
acknowledgment, time left before HLAR), the token's expiry; and the acknowledgment of several contracts at once
(each acknowledgment still names its own contract and version). Queries do not grow with the number of
contracts shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from smartoa.consignes.acknowledgments import day_states
from smartoa.consignes.queries import current_schedules
from smartoa.contracts.services import active_token_expiries
from smartoa.core.clock import now
from smartoa.core.templatetags.smartoa_time import paris_date
from smartoa.domain.acknowledgment import DayAcknowledgment
from smartoa.domain.calendar import local_day_of
from smartoa.domain.errors import UserError
from smartoa.portal.access import Holding, contract_for, holdings
from smartoa.portal.acknowledging import acknowledge_shown
from smartoa.portal.messages import user_message
from smartoa.portal.templatetags.portal import state_badge
from smartoa.portal.timeline import Timeline, timeline


@dataclass(frozen=True)
class Row:
    """One contract's card, ready to print: the page shows up to hundreds of them, so every text is computed
    here once rather than looked up piece by piece by the template engine."""

    contract_id: str
    label: str
    role: str
    timeline: Timeline
    badge: SafeString
    token: str
    ack_value: str  # "contract_id:version" when it can be acknowledged now, "" otherwise

    @classmethod
    def of(cls, holding: Holding, timeline: Timeline, state: DayAcknowledgment, expires: datetime | None) -> Row:
        c = holding.contract
        token = (
            _("Pas de jeton API actif")
            if expires is None
            else _("Jeton API valable jusqu'au %(date)s") % {"date": paris_date(expires)}
        )
        ack_value = f"{c.contract_id}:{state.version}" if state.can_acknowledge else ""
        return cls(c.contract_id, c.label, holding.role_label, timeline, state_badge(state), token, ack_value)

    @property
    def ack_label(self) -> str:
        return _("Acquiescer %(id)s") % {"id": self.contract_id}


def tomorrow() -> date:
    return local_day_of(now()) + timedelta(days=1)


class ContractsView(View):
    template = "portal/contracts/list.html"

    def get(self, request):
        day = tomorrow()
        held = holdings(request.user)
        pks = [h.contract.pk for h in held]
        periods, states, expiries = current_schedules(day, pks), day_states(pks, day), active_token_expiries(pks)
        rows = [
            Row.of(h, timeline(day, periods.get(h.contract.pk)), states[h.contract.pk], expiries.get(h.contract.pk))
            for h in held
        ]
        deadline = next(iter(states.values())).deadline if states else None
        context = {
            "day": day,
            "rows": rows,
            "deadline": deadline,
            "open": deadline is not None and now() < deadline,
            "now": now(),
            "acknowledgeable": sum(bool(r.ack_value) for r in rows),
            "nav": "contracts",
            "contract_url": reverse("portal:contract", args=["X"]).removesuffix("X/"),
        }
        return render(request, self.template, context)


class AcknowledgeManyView(View):
    """Acknowledge the ticked contracts' consignes of one day, each for the version the page showed (a version
    changed meanwhile is refused for that contract only)."""

    def post(self, request):
        done, refused = [], []
        try:
            day = date.fromisoformat(request.POST.get("day", ""))
        except ValueError:
            messages.error(request, _("Jour invalide."))
            return redirect("portal:contracts")
        for entry in request.POST.getlist("ack"):
            contract_id, _sep, version = entry.partition(":")
            holding = contract_for(request.user, contract_id)
            try:
                acknowledge_shown(request, holding.contract, day, version)
            except UserError as exc:
                refused.append(_("%(id)s : %(message)s") % {"id": contract_id, "message": user_message(exc)})
            else:
                done.append(contract_id)
        if done:
            messages.success(
                request,
                ngettext(
                    "Acquiescement enregistré pour %(n)s contrat : %(ids)s.",
                    "Acquiescements enregistrés pour %(n)s contrats : %(ids)s.",
                    len(done),
                )
                % {"n": len(done), "ids": ", ".join(done)},
            )
        for line in refused:
            messages.error(request, line)
        if not done and not refused:
            messages.warning(request, _("Cochez au moins un contrat à acquiescer."))
        return redirect("portal:contracts")
