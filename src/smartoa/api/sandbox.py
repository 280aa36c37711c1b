"""``POST /api/v1/sandbox/consigne``: a test consigne for the calling contract, in the test environment only (404
in production), published through the consigne services like a real one (``consignes/sandbox.py``)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from ninja import Field, Router, Schema

from smartoa.api.errors import ApiError
from smartoa.api.schemas import AUTH_ERRORS, ConsigneOut, Day, ErrorOut
from smartoa.audit.services import client_address
from smartoa.consignes.sandbox import TooManyTestConsignes, request_test_consigne
from smartoa.domain.errors import InvalidInput, gettext_noop

router = Router(tags=["sandbox"])


class SandboxIn(Schema):
    day: Day | None = Field(
        None, description="the test day; default: the next day whose change deadline (HLAR − 30 min) has not passed"
    )


class SandboxConsigneOut(ConsigneOut):
    """The test consigne's version: its API document (as ``GET /api/v1/effacement`` serves it) and its number."""

    version: int = Field(description="the version's number: 1 when the day was not published, else the next one")


@router.post(
    "/sandbox/consigne",
    response={201: SandboxConsigneOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, **AUTH_ERRORS},
    summary="Consigne de test (environnement de test) / ask for a test consigne (test environment only)",
)
def sandbox_consigne(request, body: SandboxIn | None = None):
    """Publish a test consigne for the calling contract (a stop 12:00–14:00 Paris time; a day already published
    gets a new version, with the stop moved), to check an integration end to end: it is served by the API,
    announced by the event stream, the webhook and the e-mails, and must be acknowledged like a real one.

    Test environment only: 404 ``not_found`` in production. 409 ``deadline_passed`` for a day whose change
    deadline has passed; 429 ``rate_limited`` (with ``Retry-After``) past the test consignes allowed per contract
    and hour (``SMARTOA_SANDBOX_PER_HOUR``, 10 by default).
    """
    caller = request.auth
    if request.body.strip() and not request.body.lstrip().startswith(b"{"):
        raise InvalidInput(gettext_noop('the body must be empty or a JSON object such as {"day": "2026-11-25"}'))
    try:
        with client_address(caller.ip), transaction.atomic():
            made = request_test_consigne(
                caller.contract_pk,
                actor=f"sandbox:{caller.token_prefix}",
                channel="api",
                day=body.day if body is not None else None,
            )
    except TooManyTestConsignes as exc:
        raise ApiError(429, exc.code, exc.message, {"Retry-After": str(exc.retry_after)}) from None
    document = made.version.document.rstrip()  # the stored document (a JSON object), byte for byte, + its number
    body = f'{document.removesuffix("}")}, "version": {made.version.number}}}'
    return HttpResponse(
        body.encode(), status=201, content_type="application/json", headers={"Cache-Control": "no-store"}
    )
