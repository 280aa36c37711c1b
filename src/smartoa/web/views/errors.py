"""The error pages of the portal and the back office, in the shared frame and the visitor's language: 400, 403
(a refused CSRF check explained), 404 (a contract the account held once says so), 500 (no database needed), 503
when the database cannot be reached or outlived the page's time budget (core/dbguard.py): the outage is logged
once (core/outage.py), the visitor is asked to retry.
The API answers JSON instead (``api/errors.py``)."""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import get_template


def bad_request(request, exception=None):
    return render(request, "web/errors/400.html", status=400)


def forbidden(request, exception=None):
    return render(request, "web/errors/403.html", status=403)


def csrf_failure(request, reason=""):
    """A form refused by the CSRF check: most often a page left open past its session, or cookies refused."""
    return render(request, "web/errors/403_csrf.html", status=403)


def not_found(request, exception=None):
    context = {}
    contract_id = getattr(exception, "contract_id", None)  # the portal's ContractNotHeld: a contract held once
    if contract_id:
        context = {"contract_id": contract_id, "lost_at": getattr(exception, "lost_at", None)}
    return render(request, "web/errors/404.html", context, status=404)


RETRY_AFTER = "30"  # seconds: a database restart or a stall usually ends within a minute


def server_error(request):
    """Rendered without the request's context processors and the account (the database may be what failed).
    Django calls it while handling the exception: a database that failed is a 503 page, not a 500."""
    failure = sys.exc_info()[1]
    if isinstance(failure, OperationalError | InterfaceError):
        from smartoa.core import outage

        outage.database.failed(failure)
        page = get_template("web/errors/503.html").render({"support_email": settings.SMARTOA_SUPPORT_EMAIL})
        response = HttpResponse(page, status=503)
        response["Retry-After"] = RETRY_AFTER
        response["Cache-Control"] = "no-store"
        return response
    body = get_template("web/errors/500.html").render({"support_email": settings.SMARTOA_SUPPORT_EMAIL})
    return HttpResponseServerError(body)
