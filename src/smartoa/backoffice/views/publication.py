"""Publication of a day's consignes from its prices, in two steps: upload the prices and pick the day, then a
preview (groups of identical schedules and their contracts, ineligible contracts with the reason, those already
published, exclusions) that the operator confirms. The prices stay on the server between the two (``staging``);
the confirmation builds the plan again and publishes it only if it is the one previewed. Same services, rules
(the publication deadline, unless forced with a reason) and audit as ``smartoa consignes generate``."""

from __future__ import annotations

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from smartoa.accounts.roles import PUBLISH
from smartoa.backoffice import staging
from smartoa.backoffice.access import StaffView, actor, operator_write
from smartoa.backoffice.forms import ExclusionsForm, PricesForm
from smartoa.backoffice.queries import deadlines_of, tomorrow
from smartoa.consignes.generation import parse_exclusions, plan_generation, publish_plan
from smartoa.consignes.rules import forced
from smartoa.contracts.services import contracts_by_id
from smartoa.domain.calendar import parse_day
from smartoa.domain.errors import NotFound, UserError
from smartoa.web.messages import user_message
from smartoa.web.timeline import timeline

PRICES = "prices"


def preview_url(day, digest: str, exclude: list[str]) -> str:
    query = QueryDict(mutable=True)
    query.update({"day": day.isoformat(), "prices": digest, "exclude": ", ".join(exclude)})
    return f"{reverse('backoffice:publication-preview')}?{query.urlencode()}"


class PricesView(StaffView):
    """Step 1: the prices file, the day and the contracts to leave out."""

    nav = "publication"
    permission = PUBLISH
    template = "backoffice/publication/prices.html"

    def get(self, request):
        form = PricesForm(initial={"day": request.GET.get("day") or tomorrow()})
        return self.page(request, form)

    def post(self, request):
        form = PricesForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(request, form, status=400)
        day, text = form.cleaned_data["day"], form.cleaned_data["prices"]
        excluded = parse_exclusions(form.cleaned_data["exclude"])
        try:
            plan_generation(text, day, exclude=excluded)
        except UserError as exc:
            return self.page(request, form, error=user_message(exc), status=400)
        return redirect(preview_url(day, staging.stage(PRICES, request.user.pk, text), excluded))

    def page(self, request, form, *, error: str = "", status: int = 200):
        context = self.context(form=form, error=error, deadlines=deadlines_of(tomorrow()))
        return render(request, self.template, context, status=status)


class PreviewView(StaffView):
    """Step 2: what the publication would do; exclusions can be changed (the preview is built again)."""

    nav = "publication"
    permission = PUBLISH  # the page posts to PublishView
    template = "backoffice/publication/preview.html"

    def get(self, request):
        return self.page(request, request.GET)

    def page(self, request, data, *, error: str = "", status: int = 200):
        """The preview of ``data`` (day, prices digest, exclusions); back to step 1 when the prices are gone. An
        unknown id among the exclusions is shown as a refusal above the preview built without it."""
        typed = data.get("exclude", "")
        excluded = parse_exclusions(typed)
        try:
            day = parse_day(data.get("day", ""))
            text = staging.staged(PRICES, request.user.pk, data.get("prices", ""))
            try:
                plan = plan_generation(text, day, exclude=excluded)
            except NotFound as exc:
                error, status = user_message(exc), 400
                plan = plan_generation(text, day, exclude=contracts_by_id(excluded).keys())
        except UserError as exc:
            messages.error(request, user_message(exc))
            return redirect("backoffice:publication")
        context = self.context(
            plan=plan,
            timeline=timeline(plan.day, plan.periods),
            deadlines=deadlines_of(plan.day),
            digest=data["prices"],
            exclude=", ".join(plan.excluded),
            exclusions=ExclusionsForm(initial={"exclude": typed}),
            exclude_published=", ".join(plan.excluded + plan.already_published),
            error=error,
        )
        return render(request, self.template, context, status=status)


class PublishView(PreviewView):
    """Step 3: publish the plan previewed — built again from the kept prices, refused if it changed."""

    permission = PUBLISH

    def get(self, request):
        return redirect("backoffice:publication")

    def post(self, request):
        data = request.POST
        try:
            day = parse_day(data.get("day", ""))
            digest = data.get("prices", "")
            plan = plan_generation(
                staging.staged(PRICES, request.user.pk, digest), day, exclude=parse_exclusions(data.get("exclude", ""))
            )
            staging.check_unchanged(data.get("fingerprint", ""), plan.fingerprint())
            force = forced(data.get("force") == "on", data.get("reason"))
            with operator_write(request):
                published = publish_plan(plan, actor=actor(request), force=force)
        except UserError as exc:
            return self.page(request, data, error=user_message(exc), status=400)
        staging.discard(PRICES, request.user.pk, digest)
        summary = timeline(plan.day, plan.periods).summary
        messages.success(
            request,
            ngettext(
                "%(n)s consigne publiée pour le %(day)s : %(summary)s.",
                "%(n)s consignes publiées pour le %(day)s : %(summary)s.",
                len(published),
            )
            % {"n": len(published), "day": plan.day.strftime("%d/%m/%Y"), "summary": summary},
        )
        if force is not None:
            messages.warning(
                request,
                _("Publication forcée, enregistrée au journal d'audit avec son motif : %(reason)s")
                % {"reason": force.reason},
            )
        return redirect(f"{reverse('backoffice:control')}?day={plan.day.isoformat()}")
