"""Accounts in the admin: read-only lists; account creation and (de)activation are service-backed operations."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from smartoa.accounts.models import Role, User
from smartoa.accounts.roles import role_of
from smartoa.accounts.security import reset_second_factor
from smartoa.accounts.services import create_account, set_account_active
from smartoa.core.admin import Operation, ReadOnlyAdmin, ReadOnlyInline, actor_of
from smartoa.core.permissions import CONTRACTS, OPERATORS, RESET_SECOND_FACTOR, choices, role_named


class RoleInline(ReadOnlyInline):
    model = Role
    fields = ("contract", "kind", "created_at")
    readonly_fields = fields


class AccountForm(forms.Form):
    email = forms.EmailField(label=_("Adresse e-mail (identifiant)"))
    full_name = forms.CharField(label=_("Nom"), max_length=200, required=False)
    role = forms.ChoiceField(
        label=_("Accès au back-office"),
        required=False,
        choices=lambda: [("", _("Aucun (compte d'un producteur)")), *choices()],
        help_text=_("Seul un Administrateur peut créer un compte d'opérateur."),
    )


class CreateAccount(Operation):
    name, label, form_class, on_object = "create", _("Créer un compte"), AccountForm, False
    permission = CONTRACTS
    help_text = _(
        "Le compte reçoit par e-mail son identifiant et un mot de passe provisoire ; à la première connexion il "
        "change ce mot de passe et active un TOTP. Les rôles sur les contrats se donnent par l'import des "
        "contrats ou le changement de gestionnaire."
    )

    def perform(self, request, obj, form):
        role = role_named(form.cleaned_data["role"]) if form.cleaned_data["role"] else None
        if role is not None and not request.user.has_perm(OPERATORS):
            raise PermissionDenied
        user = create_account(
            form.cleaned_data["email"], full_name=form.cleaned_data["full_name"], role=role, actor=actor_of(request)
        )
        return _("Compte %(email)s créé ; ses identifiants lui sont envoyés par e-mail.") % {"email": user.email}


class ActiveForm(forms.Form):
    active = forms.BooleanField(label=_("Compte actif"), required=False)


class SetAccountActive(Operation):
    name, label, form_class = "set-active", _("Activer ou désactiver"), ActiveForm
    permission = CONTRACTS
    help_text = _("Un compte désactivé ne peut plus se connecter et ses sessions ouvertes cessent aussitôt.")

    def allowed(self, user, obj=None) -> bool:  # an operator's account: for those who manage operators
        return super().allowed(user, obj) and (obj is None or not obj.is_staff or user.has_perm(OPERATORS))

    def perform(self, request, obj, form):
        set_account_active(obj, form.cleaned_data["active"], actor=actor_of(request))
        return _("Compte mis à jour.")


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("J'ai vérifié l'identité de la personne (appel ou e-mail depuis l'adresse du compte)"), required=True
    )


class ResetSecondFactor(Operation):
    name, label, form_class = "reset-totp", _("Réinitialiser la double authentification"), ConfirmForm
    permission = RESET_SECOND_FACTOR
    help_text = _(
        "Pour un utilisateur qui a perdu son téléphone : son application et ses codes de secours sont supprimés, "
        "il reçoit par e-mail un nouveau mot de passe provisoire et activera une nouvelle application à sa "
        "prochaine connexion."
    )

    def perform(self, request, obj, form):
        reset_second_factor(obj, actor=actor_of(request))
        return _("Double authentification réinitialisée ; un mot de passe provisoire a été envoyé.")


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = (
        "email",
        "full_name",
        "is_staff",
        "operator_role",
        "is_active",
        "must_change_password",
        "date_joined",
    )
    list_filter = ("is_staff", "is_active")
    search_fields = ("email", "full_name")
    exclude = ("password", "user_permissions", "groups")
    inlines = [RoleInline]
    operations = (CreateAccount(), SetAccountActive(), ResetSecondFactor())

    @admin.display(description=_("rôle d'opérateur"))
    def operator_role(self, obj) -> str:
        role = role_of(obj)
        return str(role.label) if role else "—"


admin.site.unregister(Group)  # operators' groups are their roles (accounts/roles.py), given by `smartoa operators`

# TOTP devices are enrolled by their owners and reset through the account's operations, never edited here.
admin.site.unregister(TOTPDevice)
