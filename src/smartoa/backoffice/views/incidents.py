"""An incident change to one published consigne, in a form: the current version's stop windows pre-filled, the
operator adds, moves or removes windows, gives the reason, sees a preview (the new version's timeline and its
difference with the current one) and publishes it through ``consignes.services.modify`` — the service of
``smartoa consignes modify`` and of the file upload, with its deadline, checks and audit. The preview lists the
rules the change would break (``consignes.rules``) and offers to force it, the change's reason kept as the
force's."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from smartoa.accounts.roles import PUBLISH
from smartoa.backoffice import staging
from smartoa.backoffice.access import StaffView, actor, operator_write
from smartoa.backoffice.consigne_forms import (
    ChooseConsigneForm,
    ReasonForm,
    WindowFormSet,
    change_fingerprint,
    window_rows,
    with_added_row,
)
from smartoa.backoffice.queries import deadlines_of
from smartoa.consignes.deadlines import hlars_for
from smartoa.consignes.models import ConsigneVersion
from smartoa.consignes.queries import current_version
from smartoa.consignes.rules import forced, rule_problems
from smartoa.consignes.services import modify
from smartoa.contracts.models import Contract
from smartoa.contracts.services import get_contract
from smartoa.core.clock import now
from smartoa.domain.calendar import day_length, parse_day
from smartoa.domain.errors import UserError
from smartoa.domain.schedule import ConsigneDocument, periods_from_json
from smartoa.web.difference import difference
from smartoa.web.messages import user_message
from smartoa.web.timeline import summary, timeline

PREFIX = "windows"


def change_url(contract_id: str, day: date) -> str:
    return reverse("backoffice:consigne-change", args=[contract_id, day.isoformat()])


class ChooseView(StaffView):
    """The consigne to change, by contract and day (the incident tab's small form): to its change form."""

    nav = "publication"

    def get(self, request):
        form = ChooseConsigneForm(request.GET)
        if form.is_valid():
            return redirect(change_url(form.cleaned_data["contract"].strip().upper(), form.cleaned_data["day"]))
        messages.error(request, _("Indiquez un contrat et un jour de livraison."))
        return redirect("backoffice:modify")


class ChangeView(StaffView):
    """One contract's consigne of one day: the windows form, its preview, its publication."""

    nav = "publication"
    permission = PUBLISH
    template = "backoffice/publication/change.html"

    def target(self, contract_id: str, day_text: str) -> tuple[Contract, date, ConsigneVersion | None]:
        """The contract, the day and the current version (None: never published); 404 for an unknown contract
        or a malformed day."""
        try:
            contract, day = get_contract(contract_id), parse_day(day_text)
        except UserError:
            raise Http404("no such contract or day") from None
        return contract, day, current_version(contract.pk, day)

    def formset(self, contract: Contract, day: date, data=None, *, initial=None):
        fractions = contract.sector == "wind_offshore"
        return WindowFormSet(data, prefix=PREFIX, initial=initial, day=day, fractions=fractions)

    def get(self, request, contract_id, day):
        contract, day, version = self.target(contract_id, day)
        if version is None:
            return self.unpublished(request, contract, day)
        initial = window_rows(day, periods_from_json(version.periods))
        return self.page(request, contract, version, self.formset(contract, day, initial=initial), ReasonForm())

    def post(self, request, contract_id, day):
        contract, day, version = self.target(contract_id, day)
        if version is None:
            return self.unpublished(request, contract, day)
        action = request.POST.get("action", "preview")
        data = with_added_row(request.POST) if action == "add" else request.POST
        formset, reason = self.formset(contract, day, data), ReasonForm(data)
        if action == "add":
            return self.page(request, contract, version, formset, reason)
        if not (formset.is_valid() and reason.is_valid()):
            return self.page(request, contract, version, formset, reason, status=400)
        periods = formset.schedule or ()
        fingerprint = change_fingerprint(contract.contract_id, day, version.number, periods)
        preview = {"periods": periods, "fingerprint": fingerprint}
        if action != "publish":
            return self.page(request, contract, version, formset, reason, preview=preview)
        try:
            staging.check_unchanged(request.POST.get("fingerprint", ""), fingerprint)
            force = forced(request.POST.get("force") == "on", reason.cleaned_data["reason"])
            with operator_write(request):
                (new,) = modify(
                    [ConsigneDocument(contract.contract_id, day, periods)],
                    reason=reason.cleaned_data["reason"],
                    actor=actor(request),
                    force=force,
                )
        except UserError as exc:
            error = user_message(exc)
            return self.page(request, contract, version, formset, reason, preview=preview, error=error, status=400)
        messages.success(
            request,
            _("%(id)s, livraison du %(day)s : version %(n)s publiée (%(summary)s) ; à acquiescer de nouveau.")
            % {
                "id": contract.contract_id,
                "day": day.strftime("%d/%m/%Y"),
                "n": new.number,
                "summary": summary(periods),
            },
        )
        return redirect(change_url(contract.contract_id, day))

    def unpublished(self, request, contract: Contract, day: date):
        messages.error(
            request,
            _("%(id)s n'a pas de consigne publiée pour le %(day)s : il n'y a rien à modifier.")
            % {"id": contract.contract_id, "day": day.strftime("%d/%m/%Y")},
        )
        return redirect("backoffice:modify")

    def page(self, request, contract, version, formset, reason, *, preview=None, error: str = "", status: int = 200):
        day = version.delivery_day
        current = periods_from_json(version.periods)
        if preview is not None:
            preview = {
                **preview,
                "timeline": timeline(day, preview["periods"]),
                "difference": difference(day, current, preview["periods"]),
                "number": version.number + 1,
                "refusals": rule_problems([(contract, day)], hlars_for([day]), now()),
            }
        context = self.context(
            contract=contract,
            day=day,
            version=version,
            current=timeline(day, current),
            deadlines=deadlines_of(day),
            hours=day_length(day) // timedelta(hours=1),
            formset=formset,
            reason_form=reason,
            preview=preview,
            error=error,
        )
        return render(request, self.template, context, status=status)
