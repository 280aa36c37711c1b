"""``GET/POST /api/v1/acquiescement``: the acknowledgment of a day's consigne, for the calling contract."""

from __future__ import annotations

from django.db import transaction
from ninja import Router, Schema, Status

from smartoa.api.auth import ApiError
from smartoa.consignes.errors import ConsigneError
from smartoa.consignes.services import acknowledge, acknowledgment_state
from smartoa.domain.calendar import parse_day

router = Router(tags=["acquiescement"])

STATUS = {"not_found": 404, "deadline_passed": 409, "stale_version": 409}


class ErrorOut(Schema):
    error: str
    message: str


class AcknowledgmentIn(Schema):
    application_date: str
    version: int | None = None


class AcknowledgmentOut(Schema):
    application_date: str
    acknowledged: bool
    version: int
    acknowledged_version: int | None
    acknowledged_at: str | None
    deadline: str
    locked: bool


ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def day_or_422(text: str, name: str = "application_date"):
    try:
        return parse_day(text)
    except ValueError as exc:
        raise ApiError(422, "invalid_input", f"{name}: {exc}") from None


def api_error(exc: ConsigneError) -> ApiError:
    return ApiError(STATUS.get(exc.code, 422), exc.code, str(exc))


@router.get(
    "/acquiescement",
    response={200: AcknowledgmentOut, **ERRORS},
    summary="État de l'acquiescement d'une journée / acknowledgment state of a day",
)
def get_acknowledgment(request, application_date: str):
    """Whether the current version of the day's consigne is acknowledged, and until when it can be."""
    day = day_or_422(application_date)
    try:
        return acknowledgment_state(request.auth.contract_pk, day).as_json()
    except ConsigneError as exc:
        raise api_error(exc) from None


@router.post(
    "/acquiescement",
    response={201: AcknowledgmentOut, **ERRORS},
    summary="Acquiescer la consigne d'une journée / acknowledge a day's consigne",
)
def post_acknowledgment(request, body: AcknowledgmentIn):
    """Acknowledge the whole day's current consigne version; allowed (and repeatable) until HLAR.

    ``version``, optional, guards against acknowledging a version other than the one read (409 stale_version).
    """
    day = day_or_422(body.application_date)
    caller = request.auth
    try:
        with transaction.atomic():
            acknowledge(
                caller.contract_pk,
                day,
                actor=f"api:{caller.token_prefix}",
                channel="api",
                ip=caller.ip,
                token=caller.token_pk,
                version_number=body.version,
            )
            state = acknowledgment_state(caller.contract_pk, day)
    except ConsigneError as exc:
        raise api_error(exc) from None
    return Status(201, state.as_json())
