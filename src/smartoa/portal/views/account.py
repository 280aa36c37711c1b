"""The account page: language, password, backup codes, recent logins and open sessions (``views/sessions.py``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from smartoa.accounts.security import backup_codes_left, new_backup_codes, verify_second_factor
from smartoa.core.addresses import client_ip
from smartoa.portal.views.sessions import logins_and_sessions
from smartoa.web.passwords import AccountPasswordForm
from smartoa.web.views.auth import CODES, CodeForm, save_new_password


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Langue"), choices=[("fr", "Français"), ("en", "English")])


def _page(request, *, password_form=None, code_form=None, status=200):
    context = {
        "language_form": LanguageForm(initial={"language": request.user.language}),
        "password_form": password_form or AccountPasswordForm(request.user),
        "code_form": code_form or CodeForm(),
        "codes_left": backup_codes_left(request.user),
        "nav": "account",
    }
    context.update(logins_and_sessions(request))
    return render(request, "portal/account.html", context, status=status)


class AccountView(View):
    def get(self, request):
        return _page(request)


class PasswordView(View):
    def post(self, request):
        form = AccountPasswordForm(request.user, request.POST)
        if form.is_valid() and save_new_password(request, form):
            messages.success(request, _("Mot de passe changé."))
            return redirect("portal:account")
        return _page(request, password_form=form, status=400)


class BackupCodesRenewView(View):
    """New backup codes (the old ones stop working), after a current code from the authenticator."""

    def post(self, request):
        form = CodeForm(request.POST)
        ip = client_ip(request)
        if form.is_valid() and verify_second_factor(request.user, form.cleaned_data["code"], ip=ip).ok:
            with transaction.atomic():
                request.session[CODES] = new_backup_codes(request.user, ip=ip)
            return redirect("web:backup-codes")
        form.add_error("code", _("Code incorrect ou déjà utilisé."))
        return _page(request, code_form=form, status=400)
