"""Contracts in the admin: read-only lists, and the operator's writes as service-backed operations (the same
services as ``smartoa contracts|ips|tokens``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext

from smartoa.accounts.models import Role
from smartoa.contracts.importing import FORMAT_HELP, import_contracts, parse_contracts_csv
from smartoa.contracts.models import AllowedIP, ApiToken, Contract, EligibilityRule, Sector
from smartoa.contracts.services import (
    add_eligibility_rule,
    add_ips,
    assign_role,
    issue_token,
    remove_ips,
    revoke_tokens,
    set_active,
)
from smartoa.core.admin import Operation, ReadOnlyAdmin, ReadOnlyInline, actor_of, address_of
from smartoa.core.formats import number_text
from smartoa.core.permissions import CONTRACTS
from smartoa.domain.calendar import iso
from smartoa.domain.errors import InvalidInput


class AllowedIPInline(ReadOnlyInline):
    model = AllowedIP
    fields = ("address", "created_at")
    readonly_fields = fields


class RoleInline(ReadOnlyInline):
    model = Role
    fields = ("user", "kind", "created_at")
    readonly_fields = fields


class AddressesForm(forms.Form):
    addresses = forms.CharField(
        label=_("Adresses IP"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Une adresse IPv4 ou IPv6 publique par ligne (ni plage, ni nom d'hôte)."),
    )

    def clean_addresses(self):
        return [line.strip() for line in self.cleaned_data["addresses"].splitlines() if line.strip()]


class AddIps(Operation):
    name, label, form_class = "add-ips", _("Autoriser des adresses IP"), AddressesForm
    permission = CONTRACTS

    def perform(self, request, obj, form):
        added = add_ips(obj, form.cleaned_data["addresses"], actor=actor_of(request), ip=address_of(request))
        return ngettext("%(n)s adresse ajoutée.", "%(n)s adresses ajoutées.", len(added)) % {"n": len(added)}


class RemoveIps(Operation):
    name, label, form_class = "remove-ips", _("Retirer des adresses IP"), AddressesForm
    permission = CONTRACTS
    help_text = _("Une machine dont l'adresse est retirée ne peut plus appeler l'API, immédiatement.")

    def perform(self, request, obj, form):
        removed = remove_ips(obj, form.cleaned_data["addresses"], actor=actor_of(request), ip=address_of(request))
        return ngettext("%(n)s adresse retirée.", "%(n)s adresses retirées.", len(removed)) % {"n": len(removed)}


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label=_("Je confirme"), required=True)


class IssueToken(Operation):
    name, label, form_class = "issue-token", _("Générer un nouveau jeton API"), ConfirmForm
    permission = CONTRACTS
    help_text = _("Le jeton actuel cessera de fonctionner immédiatement. Le nouveau n'est affiché qu'une fois.")

    def perform(self, request, obj, form):
        plain, token = issue_token(obj, actor=actor_of(request), ip=address_of(request))
        context = {"object": obj, "token": plain, "expires": iso(token.expires_at), "opts": Contract._meta}
        response = TemplateResponse(request, "admin/smartoa/token_issued.html", context)
        response["Cache-Control"] = "no-store"
        return response


class RevokeToken(Operation):
    name, label, form_class = "revoke-token", _("Révoquer le jeton API"), ConfirmForm
    permission = CONTRACTS

    def perform(self, request, obj, form):
        if not revoke_tokens(obj, actor=actor_of(request), ip=address_of(request)):
            raise InvalidInput(gettext_noop("this contract has no active token"))
        return _("Jeton révoqué : ses appels sont refusés dès maintenant.")


class ManagerForm(forms.Form):
    email = forms.EmailField(label=_("E-mail du nouveau gestionnaire"))


class ChangeManager(Operation):
    name, label, form_class = "change-manager", _("Changer de gestionnaire"), ManagerForm
    permission = CONTRACTS
    help_text = _(
        "Le jeton API est révoqué et la liste des adresses IP vidée ; l'ancien gestionnaire perd l'accès "
        "immédiatement et le producteur est prévenu par e-mail. Un compte est créé si besoin."
    )

    def perform(self, request, obj, form):
        assign_role(obj, form.cleaned_data["email"], Role.Kind.MANAGER, actor=actor_of(request))
        return _("Gestionnaire changé.")


class ActiveForm(forms.Form):
    active = forms.BooleanField(label=_("Contrat actif"), required=False)


class SetActive(Operation):
    name, label, form_class = "set-active", _("Activer ou désactiver"), ActiveForm
    permission = CONTRACTS
    help_text = _(
        "Un contrat inactif ne reçoit plus de consignes ; le désactiver révoque son jeton API et efface ses adresses "
        "IP autorisées."
    )

    def perform(self, request, obj, form):
        set_active(obj, form.cleaned_data["active"], actor=actor_of(request))
        return _("Contrat mis à jour.")


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Fichier CSV des contrats"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("Le fichier doit être encodé en UTF-8.")) from None


class ImportContracts(Operation):
    name, label, form_class, on_object = "import", _("Importer des contrats (CSV)"), ImportForm, False
    permission = CONTRACTS
    help_text = FORMAT_HELP

    def perform(self, request, obj, form):
        summary = import_contracts(parse_contracts_csv(form.cleaned_data["file"]), actor=actor_of(request))
        return _(
            "Import terminé. Contrats créés : %(created)s ; mis à jour : %(updated)s. Comptes créés : %(accounts)s."
        ) % {
            "created": number_text(len(summary.created)),
            "updated": number_text(len(summary.updated)),
            "accounts": number_text(len(summary.accounts_created)),
        }


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ("contract_id", "name", "sector", "installed_power", "power_unit", "network_id", "active")
    list_filter = ("sector", "active")
    search_fields = ("contract_id", "name", "network_id")
    inlines = [RoleInline, AllowedIPInline]
    operations = (ImportContracts(), AddIps(), RemoveIps(), IssueToken(), RevokeToken(), ChangeManager(), SetActive())


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("contract", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
    search_fields = ("contract__contract_id", "prefix")
    exclude = ("token_hash",)
    list_select_related = ("contract",)


class RuleForm(forms.Form):
    sector = forms.ChoiceField(label=_("Filière"), choices=Sector.choices)
    min_power_mw = forms.DecimalField(label=_("Puissance minimale (MW ou MWc)"), max_digits=10, decimal_places=3)
    effective_from = forms.DateField(label=_("En vigueur à partir du (AAAA-MM-JJ)"))
    source = forms.CharField(label=_("Texte de référence"), max_length=200, required=False)


class AddRule(Operation):
    name, label, form_class, on_object = "add-rule", _("Ajouter une règle d'éligibilité"), RuleForm, False
    permission = CONTRACTS
    help_text = _("Une règle s'applique aux consignes des jours à partir de sa date ; les règles existantes restent.")

    def perform(self, request, obj, form):
        add_eligibility_rule(**form.cleaned_data, actor=actor_of(request))
        return _("Règle ajoutée.")


@admin.register(EligibilityRule)
class EligibilityRuleAdmin(ReadOnlyAdmin):
    list_display = ("sector", "min_power_mw", "effective_from", "source")
    operations = (AddRule(),)
