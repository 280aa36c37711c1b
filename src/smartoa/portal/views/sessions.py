"""The account page's security sections: the account's recent logins (from the audit log) and its open sessions,
with the ending of every session but the current one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views import View

from smartoa.accounts.queries import account_sessions
from smartoa.accounts.security import LOGIN_EVENTS
from smartoa.accounts.services import end_other_sessions
from smartoa.audit.queries import account_events
from smartoa.core.addresses import client_ip

RECENT_LOGINS = 10
# What each login event is, in words; only a completed login is a success.
OUTCOMES = {
    "login.succeeded": gettext_lazy("Connexion réussie"),
    "login.failed": gettext_lazy("Échec : mot de passe incorrect"),
    "login.locked_out": gettext_lazy("Refusée : trop d'échecs, accès bloqué"),
    "totp.failed": gettext_lazy("Échec : code incorrect"),
}


@dataclass(frozen=True)
class Login:
    at: datetime
    ip: str | None
    outcome: str
    success: bool


def logins_and_sessions(request) -> dict:
    """The account page's context for ``portal/account/logins.html`` and ``sessions.html``."""
    user = request.user
    events = account_events(user.pk, LOGIN_EVENTS, limit=RECENT_LOGINS)
    return {
        "recent_logins": [Login(e.at, e.ip, str(OUTCOMES[e.action]), e.action == "login.succeeded") for e in events],
        "sessions": account_sessions(user, current_key=request.session.session_key),
    }


class EndOtherSessionsView(View):
    """End every session of the account but this one (another browser, a forgotten computer)."""

    def post(self, request):
        with transaction.atomic():
            ended = end_other_sessions(request.user, keep=request.session.session_key, ip=client_ip(request))
        if ended:
            text = ngettext("%(n)s autre session fermée.", "%(n)s autres sessions fermées.", ended) % {"n": ended}
            messages.success(request, text)
        else:
            messages.info(request, gettext("Aucune autre session ouverte."))
        return redirect(reverse("portal:account") + "#sessions")
