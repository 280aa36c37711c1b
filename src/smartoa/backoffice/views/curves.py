"""Curves: the upload of a CSV or Parquet curve file, a contract's curve and compliance, statement downloads."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from smartoa.accounts.roles import CURVES
from smartoa.backoffice.access import actor, operator_write, staff_required, write_context
from smartoa.backoffice.forms import CurveUploadForm
from smartoa.billing.views import contract_curve_page, statement_response
from smartoa.contracts.models import Contract
from smartoa.metering.parsing import CurveImportError
from smartoa.metering.services import import_curves


@staff_required(permission=CURVES)
def curve_upload(request):
    """Upload a CSV or Parquet curve file; all or nothing, errors listed by row."""
    errors = ""
    form = CurveUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        source = upload.temporary_file_path() if hasattr(upload, "temporary_file_path") else upload.read()
        try:
            with operator_write(request):
                imported = import_curves(
                    source,
                    source_name=f"{upload.name} (upload by {actor(request)})",
                    actor=actor(request),
                    kind=form.cleaned_data["kind"],
                )
        except CurveImportError as exc:
            errors = f"{upload.name}: {exc}"
        else:
            messages.success(
                request,
                _("%(rows)s lignes importées : %(days)s jours-contrats, dont %(revised)s révisés.")
                % {"rows": imported.rows, "days": imported.contract_days, "revised": imported.revised_days},
            )
            return redirect("backoffice:curve-upload")
    context = {"form": form, "errors": errors, "nav": "curves", **write_context(request, CURVES)}
    return render(request, "backoffice/upload.html", context, status=400 if errors else 200)


@staff_required
def contract_curve(request, contract_id):
    contract = get_object_or_404(Contract, contract_id=contract_id)
    return contract_curve_page(
        request,
        contract,
        base_template="backoffice/curve_frame.html",
        curve_url=reverse("backoffice:contract-curve", args=[contract.contract_id]),
        statement_url=lambda month, fmt: reverse(
            "backoffice:contract-statement", args=[contract.contract_id, month, fmt]
        ),
    )


@staff_required
def contract_statement(request, contract_id, month, fmt):
    contract = get_object_or_404(Contract, contract_id=contract_id)
    return statement_response(contract, month, fmt)
