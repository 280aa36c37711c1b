"""A contract's API access: the allowed IP addresses (add one; remove one after a warning), the token
(generate after a warning that the old one stops at once, shown once with a copy button; revoke) and, in the test
environment, the sandbox's button that publishes a test consigne."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from smartoa.audit.services import client_address
from smartoa.consignes import sandbox
from smartoa.consignes.deadlines import hlar_for
from smartoa.contracts.services import (
    add_ips,
    allowed_ips,
    issue_token,
    remove_ips,
    revoke_tokens,
    token_state,
    tokens_of,
)
from smartoa.core.addresses import client_ip
from smartoa.core.clock import now
from smartoa.core.formats import day_text, moment_text
from smartoa.domain.errors import UserError
from smartoa.portal.access import contract_for
from smartoa.web.difference import window_text
from smartoa.web.messages import user_message


class AddressForm(forms.Form):
    address = forms.CharField(
        label=gettext_lazy("Adresse IP publique à autoriser"),
        max_length=100,
        help_text=gettext_lazy("Une seule adresse IPv4 (ex. 80.12.34.56) ou IPv6 ; ni plage, ni nom d'hôte."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def _page(request, holding, form=None, status=200):
    """The contract's API access page: the steps to be ready (an address, a token, a first call), the addresses,
    the token."""
    contract = holding.contract
    tokens = tokens_of(contract)
    active = next((t for t in tokens if token_state(t) == "active"), None)
    addresses = allowed_ips(contract)
    context = {
        "holding": holding,
        "contract": contract,
        "addresses": addresses,
        "form": form or AddressForm(),
        "token": active,
        "tokens": [(t, token_state(t)) for t in tokens[:10]],
        "production": settings.PRODUCTION,
        "ready": active is not None and (bool(addresses) or not settings.PRODUCTION),
        "api_url": f"{settings.BASE_URL}/api/v1/effacement",
        "token_placeholder": _("<VOTRE_JETON>"),
        "tab": "access",
        "sandbox": sandbox.available(),
        "sandbox_day": sandbox.next_open_day(now()) if sandbox.available() else None,
        "sandbox_per_hour": settings.SMARTOA_SANDBOX_PER_HOUR,
    }
    return render(request, "portal/contract/access.html", context, status=status)


class AccessView(View):
    def get(self, request, contract_id):
        return _page(request, contract_for(request.user, contract_id))

    def post(self, request, contract_id):
        """Add one address."""
        holding = contract_for(request.user, contract_id)
        form = AddressForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    added = add_ips(
                        holding.contract,
                        [form.cleaned_data["address"]],
                        actor=request.user.email,
                        ip=client_ip(request),
                    )
            except UserError as exc:
                form.add_error("address", user_message(exc))
            else:
                if added:
                    messages.success(request, _("Adresse %(ip)s autorisée.") % {"ip": added[0]})
                else:
                    messages.info(request, _("Cette adresse était déjà autorisée."))
                return redirect("portal:access", contract_id=contract_id)
        return _page(request, holding, form, status=400)


class RemoveAddressView(View):
    """Removing an address cuts its machine off at once: a confirmation page first."""

    def get(self, request, contract_id, address):
        holding = contract_for(request.user, contract_id)
        if address not in allowed_ips(holding.contract):
            return redirect("portal:access", contract_id=contract_id)
        return render(request, "portal/contract/remove_address.html", {"holding": holding, "address": address})

    def post(self, request, contract_id, address):
        holding = contract_for(request.user, contract_id)
        try:
            with transaction.atomic():
                remove_ips(holding.contract, [address], actor=request.user.email, ip=client_ip(request))
        except UserError as exc:
            messages.error(request, user_message(exc))
        else:
            messages.success(request, _("Adresse %(ip)s retirée : ses appels sont refusés.") % {"ip": address})
        return redirect("portal:access", contract_id=contract_id)


class TokenView(View):
    """GET: the warning (the current token stops at once); POST: a new token, shown once."""

    def get(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        active = next((t for t in tokens_of(holding.contract) if token_state(t) == "active"), None)
        return render(request, "portal/contract/token_confirm.html", {"holding": holding, "token": active})

    def post(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        with transaction.atomic():
            plain, token = issue_token(holding.contract, actor=request.user.email, ip=client_ip(request))
        response = render(
            request, "portal/contract/token_shown.html", {"holding": holding, "plain": plain, "token": token}
        )
        response["Cache-Control"] = "no-store"
        return response


class RevokeTokenView(View):
    def get(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        return render(request, "portal/contract/token_revoke.html", {"holding": holding})

    def post(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        with transaction.atomic():
            count = revoke_tokens(holding.contract, actor=request.user.email, ip=client_ip(request))
        if count:
            messages.success(request, _("Jeton révoqué : les appels avec ce jeton sont refusés dès maintenant."))
        else:
            messages.info(request, _("Ce contrat n'avait pas de jeton actif."))
        return redirect("portal:access", contract_id=contract_id)


class SandboxConsigneView(View):
    """POST: publish a test consigne for the contract (test environment only; 404 in production), then say what
    was published, for which day, where it flows and that it must be acknowledged."""

    def get(self, request, contract_id):
        contract_for(request.user, contract_id)
        return redirect("portal:access", contract_id=contract_id)

    def post(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        if not sandbox.available():
            raise Http404("the sandbox exists in the test environment only")
        try:
            with client_address(client_ip(request)), transaction.atomic():
                made = sandbox.request_test_consigne(holding.contract.pk, actor=request.user.email, channel="portal")
        except UserError as exc:
            messages.error(request, user_message(exc))
        else:
            messages.success(
                request,
                _(
                    "Consigne de test publiée pour le %(day)s (version %(version)s, arrêt %(window)s). Comme une "
                    "vraie, elle est servie par l'API, annoncée par le flux d'événements, le webhook et les e-mails, "
                    "et doit être acquiescée avant l'HLAR (%(hlar)s)."
                )
                % {
                    "day": day_text(made.day),
                    "version": made.version.number,
                    "window": window_text(made.day, made.window),
                    "hlar": moment_text(hlar_for(made.day)),
                },
            )
        return redirect("portal:access", contract_id=contract_id)
