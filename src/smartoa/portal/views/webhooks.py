"""A contract's webhook: set its URL (a new signing secret, shown once with a copy button), remove it (after a
confirmation), send a test event, and the log of its latest deliveries. Every action posts a form (no JavaScript
needed) and goes through the notifications services, which audit it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from smartoa.core.addresses import client_ip
from smartoa.domain.errors import UserError
from smartoa.notifications.queries import webhook_log
from smartoa.notifications.services import remove_webhook, send_test, set_webhook, webhook_of
from smartoa.portal.access import contract_for
from smartoa.web.messages import user_message


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("URL de réception"),
        max_length=2000,  # the service says when it is too long, with the limit
        help_text=gettext_lazy(
            "Une adresse https:// de votre serveur. Chaque consigne publiée ou modifiée y est envoyée (POST, JSON), "
            "signée avec le secret affiché une seule fois."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "url", "placeholder": "https://"}
        ),
    )


def _page(request, holding, form=None, status=200):
    contract = holding.contract
    webhook = webhook_of(contract)
    context = {
        "holding": holding,
        "contract": contract,
        "webhook": webhook,
        "form": form or WebhookForm(initial={"url": webhook.url if webhook else ""}),
        "log": webhook_log(contract),
        "tab": "webhook",
    }
    return render(request, "portal/contract/webhook.html", context, status=status)


class WebhookView(View):
    """GET: the webhook, its form and its log; POST: set the URL, then show the new secret once."""

    def get(self, request, contract_id):
        return _page(request, contract_for(request.user, contract_id))

    def post(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    secret = set_webhook(
                        holding.contract, form.cleaned_data["url"], actor=request.user.email, ip=client_ip(request)
                    )
            except UserError as exc:
                form.add_error("url", user_message(exc))
            else:
                webhook = webhook_of(holding.contract)
                response = render(
                    request,
                    "portal/contract/webhook_secret.html",
                    {"holding": holding, "secret": secret, "webhook": webhook},
                )
                response["Cache-Control"] = "no-store"
                return response
        return _page(request, holding, form, status=400)


class TestWebhookView(View):
    def post(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        try:
            with transaction.atomic():
                send_test(holding.contract, actor=request.user.email, ip=client_ip(request))
        except UserError as exc:
            messages.error(request, user_message(exc))
        else:
            messages.success(request, _("Événement de test envoyé : le journal ci-dessous indique sa livraison."))
        return redirect("portal:webhook", contract_id=contract_id)


class RemoveWebhookView(View):
    """GET: the confirmation (the calls stop at once); POST: remove."""

    def get(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        webhook = webhook_of(holding.contract)
        if webhook is None:
            return redirect("portal:webhook", contract_id=contract_id)
        return render(request, "portal/contract/webhook_remove.html", {"holding": holding, "webhook": webhook})

    def post(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        with transaction.atomic():
            removed = remove_webhook(holding.contract, actor=request.user.email, ip=client_ip(request))
        if removed:
            messages.success(request, _("Webhook supprimé : les consignes ne lui sont plus envoyées."))
        else:
            messages.info(request, _("Ce contrat n'avait pas de webhook."))
        return redirect("portal:webhook", contract_id=contract_id)
