"""Who may use the back office, and how its writes run.

Every page is for active staff accounts in a role that has the page's permission (``accounts/roles.py``). The
shared two-step login (``web/middleware.py``) has already sent anyone not signed in past the password and the
TOTP code to the login page; a signed-in account that is not staff gets the 403 "reserved to operators" page; an
operator whose role lacks the permission gets the 403 page saying which role is needed. A page reads with its
``read_permission`` (GET, HEAD) and writes with its ``permission`` (POST and the other methods); a page without a
``permission`` writes nothing. Each write runs in one transaction, with the operator's e-mail as the actor and the
client's address on every audit event the services record (``audit.services.client_address``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.views import View

from smartoa.accounts.roles import VIEW, role_needed, role_of
from smartoa.audit.services import client_address
from smartoa.core.addresses import client_ip

READS = ("GET", "HEAD", "OPTIONS")


def is_operator(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def refused(request: HttpRequest):
    """The 403 page for a signed-in account that is not an operator's."""
    return render(request, "backoffice/refused.html", status=403)


def role_refused(request: HttpRequest, permission: str):
    """The 403 page for an operator whose role lacks ``permission``: it names the role needed."""
    context = {"needed": role_needed(permission), "role": role_of(request.user)}
    return render(request, "backoffice/role_needed.html", context, status=403)


def can(user, permission: str | None) -> bool:
    """Whether ``user`` is an operator whose role has ``permission`` (None: nobody)."""
    return permission is not None and is_operator(user) and user.has_perm(permission)


def refusal(request: HttpRequest, permission: str | None) -> HttpResponse | None:
    """The 403 page ``request`` gets for needing ``permission``, or None if its account may go on."""
    if not is_operator(request.user):
        return refused(request)
    if permission is not None and not request.user.has_perm(permission):
        return role_refused(request, permission)
    return None


def staff_required(view=None, *, permission: str | None = None, read_permission: str = VIEW):
    """A function view for operators: reading needs ``read_permission``, writing ``permission`` (without one, the
    view answers 405 to a write). Used bare (``@staff_required``) or with the permissions."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in READS and permission is None:
                return refusal(request, read_permission) or HttpResponseNotAllowed(["GET", "HEAD"])
            needed = read_permission if request.method in READS else permission
            return refusal(request, needed) or view(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


class StaffView(View):
    """A back-office page for operators: ``read_permission`` to see it, ``permission`` to post to it (a view with
    a ``post`` and no ``permission`` is a programming error). ``nav`` names the menu entry it belongs to. The
    context of ``context()`` tells the templates whether the operator may submit (``can_write``) and else which
    role would (``write_role``), to show the submit button or say why not."""

    nav = ""
    read_permission: str = VIEW
    permission: str | None = None

    def dispatch(self, request, *args, **kwargs):
        if request.method in READS:
            needed = self.read_permission
        elif hasattr(self, request.method.lower()):
            if self.permission is None:
                raise ImproperlyConfigured(f"{type(self).__name__} writes without a permission")
            needed = self.permission
        else:  # a method the page does not have: 405 once the account is known to be an operator
            needed = self.read_permission
        return refusal(request, needed) or super().dispatch(request, *args, **kwargs)

    def context(self, **values) -> dict:
        return {"nav": self.nav, **write_context(self.request, self.permission), **values}


def write_context(request: HttpRequest, permission: str | None) -> dict:
    """``can_write`` (may the operator submit the page's form) and ``write_role`` (the role needed if not)."""
    return {
        "can_write": can(request.user, permission),
        "write_role": role_needed(permission) if permission is not None else None,
    }


def actor(request: HttpRequest) -> str:
    """Who acts, for the services and the audit log: the operator's e-mail."""
    return request.user.email


@contextmanager
def operator_write(request: HttpRequest) -> Iterator[None]:
    """One transaction for an operator's write, its audit events stamped with the client's address."""
    with client_address(client_ip(request)), transaction.atomic():
        yield
