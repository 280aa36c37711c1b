"""Exports of a contract's consignes and acknowledgments over a range of days, in JSON, CSV or Excel."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from smartoa.audit.services import record
from smartoa.consignes.exports import acknowledgments_between, acknowledgments_file, consignes_file
from smartoa.consignes.queries import current_versions
from smartoa.core.addresses import client_ip
from smartoa.core.clock import now
from smartoa.domain.calendar import check_day_range, local_day_of
from smartoa.domain.errors import UserError
from smartoa.exports.writers import FORMATS
from smartoa.portal.access import contract_for

WHAT = [("consignes", gettext_lazy("Consignes")), ("acquiescements", gettext_lazy("Acquiescements"))]
DAY_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # the browser's date picker wants ISO
FORMAT_CHOICES = [
    ("xlsx", gettext_lazy("Excel (xlsx)")),
    ("csv", gettext_lazy("CSV pour tableur (séparateur ;)")),
    ("json", gettext_lazy("JSON (comme l'API)")),
]


class ExportForm(forms.Form):
    what = forms.ChoiceField(label=gettext_lazy("Données"), choices=WHAT)
    start = forms.DateField(label=gettext_lazy("Du"), widget=DAY_INPUT)
    end = forms.DateField(label=gettext_lazy("Au (inclus)"), widget=DAY_INPUT)
    fmt = forms.ChoiceField(label=gettext_lazy("Format"), choices=FORMAT_CHOICES)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            try:
                check_day_range(start)
                check_day_range(end)
            except UserError:
                raise forms.ValidationError(_("Choisissez des dates entre 2000 et 2099.")) from None
            if end < start:
                raise forms.ValidationError(_("La fin précède le début."))
            if (end - start).days + 1 > settings.SMARTOA_HISTORY_MAX_DAYS:
                raise forms.ValidationError(
                    _("%(n)s jours au plus par export.") % {"n": settings.SMARTOA_HISTORY_MAX_DAYS}
                )
        return data


class ExportView(View):
    def get(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        if "fmt" not in request.GET:
            today = local_day_of(now())
            initial = {"what": "consignes", "start": today - timedelta(days=30), "end": today + timedelta(days=1)}
            context = {"holding": holding, "form": ExportForm(initial=initial), "tab": "exports"}
            return render(request, "portal/contract/exports.html", context)
        form = ExportForm(request.GET)
        if not form.is_valid():
            context = {"holding": holding, "form": form, "tab": "exports"}
            return render(request, "portal/contract/exports.html", context, status=400)
        data, contract = form.cleaned_data, holding.contract
        start, end, fmt = data["start"], data["end"], data["fmt"]
        if data["what"] == "consignes":
            body = consignes_file(contract.contract_id, current_versions(contract.pk, start, end), fmt)
        else:
            body = acknowledgments_file(contract.contract_id, acknowledgments_between(contract.pk, start, end), fmt)
        record(
            f"export.{data['what']}",
            actor=request.user.email,
            user=request.user,
            contract=contract,
            ip=client_ip(request),
            start=start.isoformat(),
            end=end.isoformat(),
            format=fmt,
        )
        response = HttpResponse(body, content_type=FORMATS[fmt])
        name = f"{data['what']}_{contract.contract_id}_{start}_{end}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
