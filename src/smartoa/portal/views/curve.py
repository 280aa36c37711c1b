"""The realised curve against the consigne and the monthly statement: the billing pages, for this contract only,
in the portal's frame."""

from __future__ import annotations

from django.urls import reverse
from django.views import View

from smartoa.audit.services import record
from smartoa.billing.views import contract_curve_page, statement_response
from smartoa.core.addresses import client_ip
from smartoa.portal.access import contract_for


class CurveView(View):
    def get(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        contract = holding.contract
        return contract_curve_page(
            request,
            contract,
            base_template="portal/curve_frame.html",
            curve_url=reverse("portal:curve", args=[contract.contract_id]),
            statement_url=lambda month, fmt: reverse("portal:statement", args=[contract.contract_id, month, fmt]),
            extra={"holding": holding, "tab": "curve"},
        )


class StatementView(View):
    def get(self, request, contract_id, month, fmt):
        holding = contract_for(request.user, contract_id)
        response = statement_response(holding.contract, month, fmt)
        record(
            "export.statement",
            actor=request.user.email,
            user=request.user,
            contract=holding.contract,
            ip=client_ip(request),
            month=month,
            format=fmt,
        )
        return response
