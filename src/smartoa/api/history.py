"""``GET /api/v1/effacements?start&end``: the calling contract's consignes over a bounded range of days."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext_noop
from ninja import Router

from smartoa.api.schemas import AUTH_ERRORS, ConsigneOut, Day, ErrorOut
from smartoa.consignes.queries import current_documents
from smartoa.domain.errors import InvalidInput

router = Router(tags=["effacement"])


@router.get(
    "/effacements",
    response={200: list[ConsigneOut], 422: ErrorOut, **AUTH_ERRORS},
    summary="Historique des consignes / consignes of a range of days",
)
def effacements(request, start: Day, end: Day):
    """One document per published day in [start, end] (current version, seed format); the range is bounded."""
    if end < start:
        raise InvalidInput(gettext_noop("end must not be before start"))
    days = (end - start).days + 1
    if days > settings.SMARTOA_HISTORY_MAX_DAYS:
        raise InvalidInput(
            gettext_noop("the range covers %(days)d days; at most %(most)d allowed"),
            days=days,
            most=settings.SMARTOA_HISTORY_MAX_DAYS,
        )
    documents = [json.loads(d) for d in current_documents(request.auth.contract_pk, start, end)]
    body = json.dumps(documents, indent=2, ensure_ascii=False).encode()
    return HttpResponse(body, content_type="application/json", headers={"Cache-Control": "no-store"})
