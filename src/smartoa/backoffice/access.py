"""Who may use the back office, and how its writes run.

Every page is for active staff accounts. The shared two-step login (``web/middleware.py``) has already sent
anyone not signed in past the password and the TOTP code to the login page; a signed-in account that is not
staff gets a 403 page. Each write runs in one transaction, with the operator's e-mail as the actor and the
client's address on every audit event the services record (``audit.services.client_address``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import render
from django.views import View

from smartoa.audit.services import client_address
from smartoa.core.addresses import client_ip


def is_operator(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def refused(request: HttpRequest):
    return render(request, "backoffice/refused.html", status=403)


def staff_required(view):
    """A function view for operators only (403 page otherwise)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_operator(request.user):
            return refused(request)
        return view(request, *args, **kwargs)

    return wrapped


class StaffView(View):
    """A back-office page: operators only (403 page otherwise). ``nav`` names the menu entry it belongs to."""

    nav = ""

    def dispatch(self, request, *args, **kwargs):
        if not is_operator(request.user):
            return refused(request)
        return super().dispatch(request, *args, **kwargs)

    def context(self, **values) -> dict:
        return {"nav": self.nav, **values}


def actor(request: HttpRequest) -> str:
    """Who acts, for the services and the audit log: the operator's e-mail."""
    return request.user.email


@contextmanager
def operator_write(request: HttpRequest) -> Iterator[None]:
    """One transaction for an operator's write, its audit events stamped with the client's address."""
    with client_address(client_ip(request)), transaction.atomic():
        yield
