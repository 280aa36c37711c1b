"""The language switch in every page's header: the account's language, or before the login the browser session's."""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import redirect
from django.views import View
from django.views.i18n import set_language as django_set_language

from smartoa.accounts.services import set_language
from smartoa.core.addresses import client_ip
from smartoa.web.context import home_of


class LanguageView(View):
    """The account's language (or, before the login, the browser session's)."""

    def post(self, request):
        language = request.POST.get("language", "")
        if language not in ("fr", "en"):
            return redirect(request.POST.get("next") or home_of(request))
        if request.user.is_authenticated:
            with transaction.atomic():
                set_language(request.user, language, ip=client_ip(request))
        return django_set_language(request)
