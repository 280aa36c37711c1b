"""Changes to published days: the incident modification (JSON consignes and a reason, until HLAR − 30 min) and
the day's HLAR (shown, and set: moving it earlier asks for a confirmation first, forcing needs a reason). Same
services, rules, messages and audit as ``smartoa consignes modify`` and ``smartoa hlar set``."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from smartoa.accounts.roles import HLAR, PUBLISH
from smartoa.backoffice.access import StaffView, actor, operator_write
from smartoa.backoffice.consigne_forms import ChooseConsigneForm
from smartoa.backoffice.forms import HlarForm, ModifyForm
from smartoa.backoffice.queries import deadlines_of, tomorrow
from smartoa.consignes.deadlines import ConfirmationRequired, cutoff_for_hlar, parse_hhmm, set_hlar
from smartoa.consignes.deadlines import contracts_with_consigne as told
from smartoa.consignes.rules import forced
from smartoa.consignes.services import load_documents, modify
from smartoa.core.templatetags.smartoa_time import paris, paris_date, paris_time
from smartoa.domain.calendar import parse_day, to_local
from smartoa.domain.errors import UserError
from smartoa.web.messages import user_message
from smartoa.web.timeline import summary


class ModifyView(StaffView):
    """New versions of published consignes after an incident; every earlier acknowledgment is void."""

    nav = "publication"
    permission = PUBLISH
    template = "backoffice/publication/modify.html"

    def get(self, request):
        return self.page(request, ModifyForm())

    def post(self, request):
        form = ModifyForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(request, form, status=400)
        try:
            documents = load_documents(form.cleaned_data["file"], action="changed")
            with operator_write(request):
                data = form.cleaned_data
                force = forced(data["force"], data["reason"])
                versions = modify(documents, reason=data["reason"], actor=actor(request), force=force)
        except UserError as exc:
            return self.page(request, form, error=user_message(exc), status=400)
        for doc, version in zip(documents, versions, strict=True):
            messages.success(
                request,
                _("%(id)s, livraison du %(day)s : version %(n)s publiée (%(summary)s) ; à acquiescer de nouveau.")
                % {
                    "id": doc.contract_id,
                    "day": doc.delivery_day.strftime("%d/%m/%Y"),
                    "n": version.number,
                    "summary": summary(doc.periods),
                },
            )
        return redirect("backoffice:modify")

    def page(self, request, form, *, error: str = "", status: int = 200):
        choose = ChooseConsigneForm(initial={"day": tomorrow()})
        context = self.context(form=form, choose=choose, error=error, deadlines=deadlines_of(tomorrow()))
        return render(request, self.template, context, status=status)


class HlarView(StaffView):
    """A delivery day's HLAR and change deadline; setting it (postponing it) moves both."""

    nav = "publication"
    permission = HLAR
    template = "backoffice/publication/hlar.html"

    def get(self, request):
        try:
            day = parse_day(request.GET["day"]) if request.GET.get("day") else tomorrow()
        except UserError as exc:
            messages.error(request, user_message(exc))
            day = tomorrow()
        deadlines = deadlines_of(day)
        form = HlarForm(initial={"day": day, "time": to_local(deadlines.hlar).strftime("%H:%M")})
        return self.page(request, form, day)

    def post(self, request):
        form = HlarForm(request.POST)
        if not form.is_valid():
            return self.page(request, form, tomorrow(), status=400)
        day, data = form.cleaned_data["day"], form.cleaned_data
        try:
            at = parse_hhmm(data["time"])
            force = forced(data["force"], data["reason"])
            with operator_write(request):
                previous, new = set_hlar(
                    day, at, actor=actor(request), confirm_earlier=data["confirm_earlier"], force=force
                )
        except ConfirmationRequired as exc:  # the confirmation step: what would close and when, and who is told
            confirm = HlarForm({**request.POST.dict(), "confirm_earlier": "on"})
            context = {"confirmation": user_message(exc), "confirm_form": confirm, "told": len(told(day))}
            return self.page(request, form, day, **context)
        except UserError as exc:
            return self.page(request, form, day, error=user_message(exc), status=400)
        messages.success(
            request,
            _(
                "HLAR du %(day)s fixée au %(new)s ; elle était au %(previous)s. Modifications acceptées jusqu'à "
                "%(cutoff)s, acquiescements jusqu'à %(hlar)s, le %(date)s."
            )
            % {
                "day": day.strftime("%d/%m/%Y"),
                "new": paris(new),
                "previous": f"{paris_date(previous)} {paris_time(previous)}",
                "cutoff": paris_time(cutoff_for_hlar(new)),
                "hlar": paris_time(new),
                "date": paris_date(new),
            },
        )
        return redirect(f"{reverse('backoffice:hlar')}?day={day.isoformat()}")

    def page(self, request, form, day, *, error: str = "", status: int = 200, **extra):
        context = self.context(form=form, error=error, deadlines=deadlines_of(day), **extra)
        return render(request, self.template, context, status=status)
