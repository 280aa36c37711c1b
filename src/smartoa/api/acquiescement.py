"""``GET/POST /api/v1/acquiescement``: the acknowledgment of a day's consigne, for the calling contract.

Refusals are the services' UserErrors (404 nothing published, 409 deadline passed or stale version), mapped by
errors.py."""

from __future__ import annotations

from typing import Annotated

from django.db import transaction
from ninja import Field, Router, Schema, Status
from pydantic import Strict

from smartoa.api.schemas import AUTH_ERRORS, Day, ErrorOut, IsoDate, IsoDateTime
from smartoa.consignes.acknowledgments import acknowledge, acknowledgment_state

router = Router(tags=["acquiescement"])


class AcknowledgmentIn(Schema):
    application_date: Day
    version: Annotated[int, Strict(), Field(ge=1)] | None = Field(
        None, description="the version read; refused (409 stale_version) if it is no longer the current one"
    )


class AcknowledgmentOut(Schema):
    application_date: IsoDate
    acknowledged: bool = Field(description="whether the current version is acknowledged")
    version: int = Field(description="the current version of the day's consigne")
    acknowledged_version: int | None
    acknowledged_at: IsoDateTime | None
    deadline: IsoDateTime = Field(description="HLAR: acknowledgments are accepted until then")
    locked: bool = Field(description="the deadline has passed")


ERRORS = {404: ErrorOut, 409: ErrorOut, 422: ErrorOut, **AUTH_ERRORS}


@router.get(
    "/acquiescement",
    response={200: AcknowledgmentOut, **ERRORS},
    summary="État de l'acquiescement d'une journée / acknowledgment state of a day",
)
def get_acknowledgment(request, application_date: Day):
    """Whether the current version of the day's consigne is acknowledged, and until when it can be."""
    return acknowledgment_state(request.auth.contract_pk, application_date).as_json()


@router.post(
    "/acquiescement",
    response={201: AcknowledgmentOut, **ERRORS},
    summary="Acquiescer la consigne d'une journée / acknowledge a day's consigne",
)
def post_acknowledgment(request, body: AcknowledgmentIn):
    """Acknowledge the whole day's current consigne version; allowed (and repeatable) until HLAR.

    ``version``, optional, guards against acknowledging a version other than the one read (409 stale_version).
    """
    caller = request.auth
    with transaction.atomic():
        acknowledge(
            caller.contract_pk,
            body.application_date,
            actor=f"api:{caller.token_prefix}",
            channel="api",
            ip=caller.ip,
            token=caller.token_pk,
            version_number=body.version,
        )
        state = acknowledgment_state(caller.contract_pk, body.application_date)
    return Status(201, state.as_json())
