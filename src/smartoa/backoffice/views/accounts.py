"""Accounts: the list (search, roles, second factor), creation (the login is e-mailed; an operator's account in a
role for an Administrateur), an operator's role (Administrateur only) and the reset of a lost authenticator after
checking who asks. Same services and audit as the admin's operations, ``smartoa operators`` and ``smartoa totp
reset``."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from smartoa.accounts.models import User
from smartoa.accounts.roles import CONTRACTS, OPERATORS, RESET_SECOND_FACTOR, ROLES, role_of, set_role
from smartoa.accounts.security import reset_second_factor
from smartoa.accounts.services import create_account
from smartoa.backoffice.access import StaffView, actor, can, operator_write, role_refused
from smartoa.backoffice.forms import AccountForm, AccountSearchForm, ResetTotpForm, RoleForm
from smartoa.backoffice.queries import account_rows, accounts_matching
from smartoa.backoffice.tables import page_of, query_without
from smartoa.domain.errors import UserError
from smartoa.web.messages import user_message


class AccountsView(StaffView):
    nav = "accounts"
    template = "backoffice/accounts/list.html"

    def get(self, request):
        form = AccountSearchForm(request.GET)
        search = form.cleaned_data["q"] if form.is_valid() else ""
        page = page_of(request, accounts_matching(search))
        context = self.context(
            form=form,
            rows=account_rows(page.object_list),
            page=page,
            query=query_without(request, "page"),
            can_create=can(request.user, CONTRACTS),
            can_reset=can(request.user, RESET_SECOND_FACTOR),
            can_set_role=can(request.user, OPERATORS),
        )
        return render(request, self.template, context)


class NewAccountView(StaffView):
    """A producer's account (Opérateur), or an operator's in a role (Administrateur: the role field)."""

    nav = "accounts"
    permission = CONTRACTS
    template = "backoffice/accounts/new.html"

    def get(self, request):
        return render(request, self.template, self.context(form=self.form()))

    def form(self, data=None) -> AccountForm:
        return AccountForm(data, with_role=can(self.request.user, OPERATORS))

    def post(self, request):
        form = self.form(request.POST)
        error = ""
        if request.POST.get("role") and "role" not in form.fields:
            return role_refused(request, OPERATORS)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with operator_write(request):
                    user = create_account(
                        data["email"], full_name=data["full_name"], role=data.get("role"), actor=actor(request)
                    )
            except UserError as exc:
                error = user_message(exc)
            else:
                messages.success(
                    request,
                    _("Compte %(email)s créé ; ses identifiants lui sont envoyés par e-mail.") % {"email": user.email},
                )
                return redirect("backoffice:accounts")
        return render(request, self.template, self.context(form=form, error=error), status=400)


class ResetTotpView(StaffView):
    """A user lost their authenticator: after checking their identity, remove it and e-mail a new provisional
    password; they enrol a new authenticator at their next login."""

    nav = "accounts"
    permission = RESET_SECOND_FACTOR
    template = "backoffice/accounts/reset_totp.html"

    def get(self, request, pk):
        return self.page(request, pk, ResetTotpForm())

    def post(self, request, pk):
        account = get_object_or_404(User, pk=pk)
        form = ResetTotpForm(request.POST)
        if not form.is_valid():
            return self.page(request, pk, form, status=400)
        try:
            with operator_write(request):
                reset_second_factor(account, actor=actor(request))
        except UserError as exc:
            return self.page(request, pk, form, error=user_message(exc), status=400)
        messages.success(
            request,
            _(
                "Double authentification de %(email)s réinitialisée : un mot de passe provisoire lui est envoyé "
                "par e-mail ; il activera une nouvelle application à sa prochaine connexion."
            )
            % {"email": account.email},
        )
        return redirect("backoffice:accounts")

    def page(self, request, pk, form, *, error: str = "", status: int = 200):
        account = get_object_or_404(User, pk=pk)
        context = self.context(account=account, row=account_rows([account])[0], form=form, error=error)
        return render(request, self.template, context, status=status)


class RoleView(StaffView):
    """An operator's role: see it and change it (Administrateur only), with an optional reason; audited."""

    nav = "accounts"
    read_permission = OPERATORS
    permission = OPERATORS
    template = "backoffice/accounts/role.html"

    def get(self, request, pk):
        account = self.account(pk)
        return self.page(request, account, RoleForm(initial={"role": getattr(role_of(account), "key", None)}))

    def post(self, request, pk):
        account = self.account(pk)
        form = RoleForm(request.POST)
        if not form.is_valid():
            return self.page(request, account, form, status=400)
        try:
            with operator_write(request):
                changed = set_role(
                    account, form.cleaned_data["role"], actor=actor(request), reason=form.cleaned_data["reason"]
                )
        except UserError as exc:
            return self.page(request, account, form, error=user_message(exc), status=400)
        if changed:
            message = _("%(email)s a maintenant le rôle %(role)s.")
        else:
            message = _("%(email)s avait déjà le rôle %(role)s : rien n'a changé.")
        messages.success(request, message % {"email": account.email, "role": form.cleaned_data["role"].label})
        return redirect("backoffice:accounts")

    def account(self, pk) -> User:
        return get_object_or_404(User, pk=pk, is_staff=True)

    def page(self, request, account, form, *, error: str = "", status: int = 200):
        context = self.context(account=account, role=role_of(account), roles=ROLES, form=form, error=error)
        return render(request, self.template, context, status=status)
