"""Notification preferences: the account's choices ("Mon compte": publication e-mails, reminders and how long
before HLAR), a contract's "Notifications" tab (the account's reminders for that contract, the contract's extra
addresses: add, send the link again, change their reminders, remove) and the public page where an extra address
is confirmed from the link e-mailed to it. Every action posts a form (no JavaScript needed) and goes through
``notifications/preferences.py``, which audits it."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from smartoa.core.addresses import client_ip
from smartoa.core.clock import now
from smartoa.domain.errors import DeadlinePassed, NotFound, UserError
from smartoa.notifications import preferences
from smartoa.notifications.preferences import OFF, REMINDER_CHOICES, AccountChoices, ReminderChoice
from smartoa.portal.access import contract_for
from smartoa.web.messages import user_message

DEFAULT, ACCOUNT = "default", "account"  # the operator's lead time; (a contract) as in the account


def lead_text(minutes: int) -> str:
    """``30 minutes``, ``2 heures``, ``1 h 30`` before HLAR, in the language of the request."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return ngettext("%(n)s minute", "%(n)s minutes", rest) % {"n": rest}
    if not rest:
        return ngettext("%(n)s heure", "%(n)s heures", hours) % {"n": hours}
    return _("%(hours)s h %(minutes)02d") % {"hours": hours, "minutes": rest}


def choice_label(choice: ReminderChoice) -> str:
    """A reminder choice in words: ``2 heures avant l'HLAR``, ``aucun rappel``."""
    if choice.lead is None:
        return _("aucun rappel")
    return _("%(lead)s avant l'HLAR") % {"lead": lead_text(choice.lead)}


def reminder_options(*, account: ReminderChoice | None = None) -> list[tuple[str, str]]:
    """The reminder choices of a select labelled "… avant l'HLAR", short enough for a phone: (with ``account``:
    as in the account,) the operator's lead time, each offered one, none."""
    options = []
    if account is not None:
        short = lead_text(account.lead) if account.lead is not None else _("aucun rappel")
        options.append((ACCOUNT, _("Comme dans Mon compte (%(choice)s)") % {"choice": short}))
    options.append((DEFAULT, _("Par défaut (%(lead)s)") % {"lead": lead_text(settings.SMARTOA_REMINDER_MINUTES)}))
    options += [(str(m), lead_text(m)) for m in REMINDER_CHOICES]
    options.append(("off", _("Aucun rappel")))
    return options


def choice_value(choice: ReminderChoice | None) -> str:
    """The select's value of a choice (None: as in the account)."""
    if choice is None:
        return ACCOUNT
    if not choice.enabled:
        return "off"
    return DEFAULT if choice.minutes is None else str(choice.minutes)


def parse_choice(value: str) -> ReminderChoice | None:
    """The choice of a select's value (None: as in the account)."""
    if value == ACCOUNT:
        return None
    if value == "off":
        return OFF
    return ReminderChoice(True, None if value == DEFAULT else int(value))


# --- forms ------------------------------------------------------------------------------------------------------


class ReminderField(forms.ChoiceField):
    def __init__(self, *, label, account: ReminderChoice | None = None, **kwargs):
        super().__init__(label=label, choices=reminder_options(account=account), **kwargs)


class AccountForm(forms.Form):
    publications = forms.BooleanField(label=gettext_lazy("Recevoir un e-mail à chaque publication"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reminder"] = ReminderField(label=_("Rappel d'acquiescement avant l'HLAR"))
        self.fields["reminder"].help_text = _(
            "Envoyé seulement si la consigne du lendemain n'est pas encore acquiescée. Vous pouvez choisir "
            "autrement pour un contrat, dans son onglet « Notifications »."
        )

    @classmethod
    def of(cls, choices: AccountChoices) -> AccountForm:
        return cls(initial={"publications": choices.publications, "reminder": choice_value(choices.reminders)})


class ContractForm(forms.Form):
    def __init__(self, *args, account: ReminderChoice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reminder"] = ReminderField(label=_("Rappel avant l'HLAR pour ce contrat"), account=account)


class AddressForm(forms.Form):
    email = forms.CharField(
        label=gettext_lazy("Adresse e-mail"),
        max_length=400,  # the service says when it is too long
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Langue des e-mails"), choices=[("fr", "Français"), ("en", "English")]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reminder"] = ReminderField(label=_("Rappel d'acquiescement avant l'HLAR"))


class AddressReminderForm(forms.Form):
    def __init__(self, *args, address=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reminder"] = ReminderField(label=_("Rappel d'acquiescement avant l'HLAR"))
        if address is not None:
            self.auto_id = f"id_address{address.pk}_%s"


# --- "Mon compte" -----------------------------------------------------------------------------------------------


class AccountNotificationsView(View):
    """POST: the account's choices for all its contracts. Its form is a section of the account page
    (``portal/account/notifications.html``); refused input is shown on a page of its own."""

    def post(self, request):
        form = AccountForm(request.POST)
        if form.is_valid():
            choices = AccountChoices(form.cleaned_data["publications"], parse_choice(form.cleaned_data["reminder"]))
            try:
                with transaction.atomic():
                    changed = preferences.set_account_choices(
                        request.user, choices, actor=request.user.email, ip=client_ip(request)
                    )
            except UserError as exc:
                form.add_error("reminder", user_message(exc))
            else:
                if changed:
                    messages.success(request, _("Vos choix de notification sont enregistrés."))
                else:
                    messages.info(request, _("Vos choix de notification n'ont pas changé."))
                return redirect("portal:account")  # the message on top says it is saved
        context = {"notification_form": form, "nav": "account"}
        return render(request, "portal/account/notifications_page.html", context, status=400)


# --- a contract's "Notifications" tab ---------------------------------------------------------------------------


def _address_rows(contract):
    """The contract's extra addresses with their state (confirmed, waiting, link expired) and reminder form."""
    moment = now()
    rows = []
    for address in preferences.extra_addresses(contract):
        if address.confirmed_at is not None:
            state = "confirmed"
        elif address.link_expires_at is not None and moment < address.link_expires_at:
            state = "pending"
        else:
            state = "expired"
        choice = ReminderChoice(address.reminders, address.reminder_minutes)
        form = AddressReminderForm(address=address, initial={"reminder": choice_value(choice)})
        rows.append({"address": address, "state": state, "reminders": choice_label(choice), "form": form})
    return rows


def _page(request, holding, *, own_form=None, add_form=None, status=200):
    contract = holding.contract
    account = preferences.account_choices(request.user)
    own = preferences.contract_choice(request.user, contract)
    addresses = _address_rows(contract)
    context = {
        "holding": holding,
        "tab": "notifications",
        "account": account,
        "own_label": choice_label(own if own is not None else account.reminders),
        "own_form": own_form or ContractForm(account=account.reminders, initial={"reminder": choice_value(own)}),
        "add_form": add_form or AddressForm(initial={"language": request.user.language, "reminder": DEFAULT}),
        "addresses": addresses,
        "limit": preferences.MAX_EXTRA_ADDRESSES,
        "full": len(addresses) >= preferences.MAX_EXTRA_ADDRESSES,
        "link_hours": int(preferences.LINK_LIFETIME.total_seconds() // 3600),
    }
    return render(request, "portal/contract/notifications.html", context, status=status)


def _back(contract_id: str):
    """Back to the tab, at its top: the message says what was done."""
    return redirect("portal:notifications", contract_id=contract_id)


class ContractNotificationsView(View):
    """GET: the account's reminders for the contract and the contract's extra addresses."""

    def get(self, request, contract_id):
        return _page(request, contract_for(request.user, contract_id))


class ContractReminderView(View):
    """POST: the account's reminders for this contract (or as in its account)."""

    def post(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        account = preferences.account_choices(request.user)
        form = ContractForm(request.POST, account=account.reminders)
        if form.is_valid():
            choice = parse_choice(form.cleaned_data["reminder"])
            try:
                with transaction.atomic():
                    preferences.set_contract_choice(
                        request.user, holding.contract, choice, actor=request.user.email, ip=client_ip(request)
                    )
            except UserError as exc:
                form.add_error("reminder", user_message(exc))
            else:
                messages.success(request, _("Votre rappel pour ce contrat est enregistré."))
                return _back(contract_id)
        return _page(request, holding, own_form=form, status=400)


class AddAddressView(View):
    """POST: add an extra address and e-mail it its confirmation link."""

    def post(self, request, contract_id):
        holding = contract_for(request.user, contract_id)
        form = AddressForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    address = preferences.add_address(
                        holding.contract,
                        data["email"],
                        language=data["language"],
                        reminders=parse_choice(data["reminder"]) or OFF,
                        actor=request.user.email,
                        ip=client_ip(request),
                    )
            except UserError as exc:
                form.add_error("email", user_message(exc))
            else:
                messages.success(
                    request,
                    _(
                        "Un lien de confirmation a été envoyé à %(email)s. L'adresse ne recevra rien tant qu'il "
                        "n'aura pas été ouvert."
                    )
                    % {"email": address.email},
                )
                return _back(contract_id)
        return _page(request, holding, add_form=form, status=400)


class AddressActionView(View):
    """POST on one extra address of the contract: ``resend`` its link, change its ``reminders``, ``remove`` it.
    An address of another contract answers 404."""

    action = ""

    def post(self, request, contract_id, pk):
        holding = contract_for(request.user, contract_id)
        contract, actor, ip = holding.contract, request.user.email, client_ip(request)
        try:
            with transaction.atomic():
                if self.action == "resend":
                    address = preferences.resend_link(contract, pk, actor=actor, ip=ip)
                    text = _("Un nouveau lien de confirmation a été envoyé à %(email)s.")
                elif self.action == "remove":
                    address = preferences.remove_address(contract, pk, actor=actor, ip=ip)
                    text = _("L'adresse %(email)s est retirée : elle ne recevra plus rien.")
                else:
                    form = AddressReminderForm(request.POST)
                    if not form.is_valid():
                        messages.error(request, _("Choisissez un des rappels proposés."))
                        return _back(contract_id)
                    choice = parse_choice(form.cleaned_data["reminder"]) or OFF
                    address = preferences.set_address_reminders(contract, pk, choice, actor=actor, ip=ip)
                    text = _("Rappel de %(email)s enregistré.")
        except NotFound:
            raise Http404("no such address") from None
        except UserError as exc:
            messages.error(request, capfirst(user_message(exc)))
        else:
            messages.success(request, text % {"email": address.email})
        return _back(contract_id)


# --- the public confirmation page -------------------------------------------------------------------------------


class ConfirmAddressView(View):
    """The page the confirmation link opens, reachable without an account: GET names the address and the contract
    and asks to confirm (a mail scanner that opens the link confirms nothing); POST confirms. A link that is
    unknown, used, replaced or expired is refused with a page that says so."""

    def _refused(self, request, exc: UserError):
        expired = isinstance(exc, DeadlinePassed)
        response = render(
            request,
            "portal/notifications/confirm_refused.html",
            {"message": user_message(exc), "expired": expired},
            status=410 if expired else 404,
        )
        return self._private(response)

    @staticmethod
    def _private(response):
        response["Cache-Control"] = "no-store"
        return response

    def get(self, request, token):
        try:
            address = preferences.address_for_link(token)
        except UserError as exc:
            return self._refused(request, exc)
        return self._private(render(request, "portal/notifications/confirm.html", {"address": address}))

    def post(self, request, token):
        try:
            with transaction.atomic():
                address = preferences.confirm_address(token, ip=client_ip(request))
        except UserError as exc:
            return self._refused(request, exc)
        return self._private(render(request, "portal/notifications/confirmed.html", {"address": address}))
