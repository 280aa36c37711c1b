"""Publication from an uploaded consignes file (the API's document format), in the three steps of the prices
path (``publication.py``): upload (a bad file is refused here, every bad document named), a preview (each
schedule's timeline and its contracts, counts, the contracts excluded, already published or not eligible) whose
exclusions can be changed, then the confirmation, which reads the kept file again and publishes only the plan
previewed. Same service, checks and audit as ``smartoa consignes publish``."""

from __future__ import annotations

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import ngettext

from smartoa.accounts.roles import PUBLISH
from smartoa.backoffice import staging
from smartoa.backoffice.access import StaffView, actor, operator_write
from smartoa.backoffice.consigne_forms import ConsignesFileForm
from smartoa.backoffice.forms import ExclusionsForm
from smartoa.backoffice.queries import deadlines_of, tomorrow
from smartoa.consignes.files import plan_file, publish_file_plan
from smartoa.consignes.generation import parse_exclusions
from smartoa.consignes.rules import forced
from smartoa.contracts.services import contracts_by_id
from smartoa.domain.errors import NotFound, UserError
from smartoa.web.messages import user_message
from smartoa.web.timeline import timeline

CONSIGNES_FILE = "consignes"


def preview_url(digest: str, exclude: list[str]) -> str:
    query = QueryDict(mutable=True)
    query.update({"file": digest, "exclude": ", ".join(exclude)})
    return f"{reverse('backoffice:consignes-file-preview')}?{query.urlencode()}"


class FileView(StaffView):
    """Step 1: the consignes file and the contracts to leave out."""

    nav = "publication"
    permission = PUBLISH
    template = "backoffice/publication/file.html"

    def get(self, request):
        return self.page(request, ConsignesFileForm())

    def post(self, request):
        form = ConsignesFileForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(request, form, status=400)
        text, excluded = form.cleaned_data["file"], parse_exclusions(form.cleaned_data["exclude"])
        try:
            plan_file(text, exclude=excluded)
        except UserError as exc:
            return self.page(request, form, error=user_message(exc), status=400)
        return redirect(preview_url(staging.stage(CONSIGNES_FILE, request.user.pk, text), excluded))

    def page(self, request, form, *, error: str = "", status: int = 200):
        context = self.context(form=form, error=error, deadlines=deadlines_of(tomorrow()))
        return render(request, self.template, context, status=status)


class FilePreviewView(StaffView):
    """Step 2: what the publication would do; exclusions can be changed (the preview is built again)."""

    nav = "publication"
    permission = PUBLISH  # the page posts to FilePublishView
    template = "backoffice/publication/file_preview.html"

    def get(self, request):
        return self.page(request, request.GET)

    def page(self, request, data, *, error: str = "", status: int = 200):
        """The preview of ``data`` (file digest, exclusions); back to step 1 when the file is gone. An unknown id
        among the exclusions is shown as a refusal above the preview built without it."""
        typed = data.get("exclude", "")
        excluded = parse_exclusions(typed)
        digest = data.get("file", "")
        try:
            text = staging.staged(CONSIGNES_FILE, request.user.pk, digest)
            try:
                plan = plan_file(text, exclude=excluded)
            except NotFound as exc:
                error, status = user_message(exc), 400
                plan = plan_file(text, exclude=contracts_by_id(excluded).keys())
        except UserError as exc:
            messages.error(request, user_message(exc))
            return redirect("backoffice:consignes-file")
        groups = [(group, timeline(group.day, group.periods)) for group in plan.groups()]
        context = self.context(
            plan=plan,
            groups=groups,
            all_deadlines=[deadlines_of(day) for day in plan.days],
            digest=digest,
            exclude=", ".join(plan.excluded),
            exclusions=ExclusionsForm(initial={"exclude": typed}),
            exclude_published=", ".join(plan.excluded + plan.ids_already_published()),
            exclude_ineligible=", ".join(plan.excluded + plan.ids_ineligible()),
            error=error,
        )
        return render(request, self.template, context, status=status)


class FilePublishView(FilePreviewView):
    """Step 3: publish the plan previewed — built again from the kept file, refused if it changed."""

    def get(self, request):
        return redirect("backoffice:consignes-file")

    def post(self, request):
        data = request.POST
        digest = data.get("file", "")
        try:
            text = staging.staged(CONSIGNES_FILE, request.user.pk, digest)
            plan = plan_file(text, exclude=parse_exclusions(data.get("exclude", "")))
            staging.check_unchanged(data.get("fingerprint", ""), plan.fingerprint())
            force = forced(data.get("force") == "on", data.get("reason"))
            with operator_write(request):
                published = publish_file_plan(plan, actor=actor(request), force=force)
        except UserError as exc:
            return self.page(request, data, error=user_message(exc), status=400)
        staging.discard(CONSIGNES_FILE, request.user.pk, digest)
        days = ", ".join(day.strftime("%d/%m/%Y") for day in plan.days)
        messages.success(
            request,
            ngettext(
                "%(n)s consigne publiée depuis le fichier (livraison du %(days)s).",
                "%(n)s consignes publiées depuis le fichier (livraison du %(days)s).",
                len(published),
            )
            % {"n": len(published), "days": days},
        )
        return redirect(f"{reverse('backoffice:control')}?day={plan.days[0].isoformat()}")
