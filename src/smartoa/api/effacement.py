"""``GET /api/v1/effacement``: documented here; in production it is answered by the lean path in hotpath.py
before Django is reached. This Django view gives the same answer through the same authentication, with the same
validators and the same conditional GET (``conditional.py``)."""

from django.http import HttpResponse
from ninja import Router

from smartoa.api.conditional import not_modified, validators
from smartoa.api.schemas import AUTH_ERRORS, NOTHING_PUBLISHED_MESSAGE, ConsigneOut, ErrorOut
from smartoa.core.clock import now
from smartoa.domain.errors import NotFound

router = Router(tags=["effacement"])

_VALIDATORS = {
    "ETag": {
        "description": 'the version served (strong): send it back in If-None-Match, e.g. "1234"',
        "schema": {"type": "string"},
    },
    "Last-Modified": {
        "description": "when that version was published (HTTP date, to the second)",
        "schema": {"type": "string"},
    },
}
_OPENAPI = {
    "parameters": [
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "description": "the ETag of the copy the client has (or a list of them, or *): 304 if it is current",
            "schema": {"type": "string"},
        },
        {
            "name": "If-Modified-Since",
            "in": "header",
            "required": False,
            "description": "ignored when If-None-Match is sent; 304 if nothing was published after this HTTP date",
            "schema": {"type": "string"},
        },
    ],
    "responses": {  # merged into django-ninja's (keyed by int)
        200: {"headers": _VALIDATORS},
        304: {
            "description": "Not Modified: the client's copy is the current version; no body",
            "headers": _VALIDATORS,
        },
    },
}


@router.get(
    "/effacement",
    summary="La dernière consigne publiée du contrat / the contract's latest consigne",
    response={200: ConsigneOut, 304: None, 404: ErrorOut, **AUTH_ERRORS},
    openapi_extra=_OPENAPI,
)
def effacement(request):
    """The latest published consigne (greatest application_date, newest version), in the seed's format:
    ``value`` 1.0 in a period means stop production (effacement), 0.0 no stop. The stored document is returned
    byte for byte, with its version's ``ETag`` and ``Last-Modified``.

    Cheap polling: send the ``ETag`` received in ``If-None-Match``; while no new version is published the answer
    is ``304 Not Modified`` without a body. The token and address are checked first: a refused call gets its
    refusal (401, 403, 429), never 304."""
    caller = request.auth
    document, version = caller.latest_document, caller.latest_version
    if document is None or version is None:
        raise NotFound(NOTHING_PUBLISHED_MESSAGE)
    served = validators(version, document)
    headers = dict(served.headers)
    if_none_match, if_modified_since = request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")
    if (if_none_match is not None or if_modified_since) and not_modified(
        if_none_match, if_modified_since, served, now()
    ):
        response = HttpResponse(status=304, headers={"Cache-Control": "no-store", **headers})
        # Django's CommonMiddleware would add "Content-Length: 0"; a 304 may only give the 200's (RFC 9110 §8.6).
        response["Content-Length"] = str(len(document.encode()))
        del response["Content-Type"]
        return response
    return HttpResponse(
        document.encode(), content_type="application/json", headers={"Cache-Control": "no-store", **headers}
    )
