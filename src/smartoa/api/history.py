"""``GET /api/v1/effacements?start&end``: the calling contract's consignes over a bounded range of days."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse
from ninja import Router

from smartoa.api.acquiescement import ErrorOut, day_or_422
from smartoa.api.auth import ApiError
from smartoa.consignes.services import latest_documents

router = Router(tags=["effacement"])


@router.get(
    "/effacements",
    response={200: list[dict], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Historique des consignes / consignes of a range of days",
)
def effacements(request, start: str, end: str):
    """One document per published day in [start, end] (current version, seed format); the range is bounded."""
    first, last = day_or_422(start, "start"), day_or_422(end, "end")
    if last < first:
        raise ApiError(422, "invalid_input", "end must not be before start")
    days = (last - first).days + 1
    if days > settings.SMARTOA_HISTORY_MAX_DAYS:
        raise ApiError(
            422,
            "invalid_input",
            f"the range covers {days} days; at most {settings.SMARTOA_HISTORY_MAX_DAYS} allowed",
        )
    documents = [json.loads(d) for d in latest_documents(request.auth.contract_pk, first, last)]
    body = json.dumps(documents, indent=2, ensure_ascii=False).encode()
    return HttpResponse(body, content_type="application/json", headers={"Cache-Control": "no-store"})
