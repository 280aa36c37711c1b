"""``POST /api/v1/token/renew``: a new token for the calling contract (returned once); the calling one is
revoked at once."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from ninja import Field, Router, Schema, Status

from smartoa.api.auth import unauthorized
from smartoa.api.schemas import AUTH_ERRORS, IsoDateTime
from smartoa.contracts.models import ApiToken
from smartoa.contracts.services import issue_token
from smartoa.domain.calendar import iso

router = Router(tags=["jeton"])


class TokenOut(Schema):
    token: str = Field(description="the new token: shown only in this response")
    expires_at: IsoDateTime


@router.post(
    "/token/renew",
    response={201: TokenOut, **AUTH_ERRORS},
    summary="Renouveler le jeton / renew the API token",
)
def renew_token(request, response: HttpResponse):
    """Issue a new token (shown only in this response) and revoke the one used for this call."""
    caller = request.auth
    with transaction.atomic():
        current = ApiToken.objects.select_for_update().select_related("contract").get(pk=caller.token_pk)
        if current.revoked_at is not None:  # renewed by a concurrent call in the meantime
            raise unauthorized("revoked_token", "this token has been revoked; use the contract's current token")
        plain, token = issue_token(current.contract, actor=f"api:{caller.token_prefix}", ip=caller.ip)
    response["Cache-Control"] = "no-store"
    return Status(201, {"token": plain, "expires_at": iso(token.expires_at)})
