"""``GET /api/v1/events``: the contract's event stream (server-sent events) is served by its own process
(``smartoa stream``); the reverse proxy routes this path to it. Reached here (no proxy in front, as with
``make run``), the call is authenticated as every call and sent on with a 307 to SMARTOA_STREAM_URL (same path
and query), so that a client needs one base URL; 503 when no stream server is configured."""

from django.conf import settings
from django.http import HttpResponse
from ninja import Router

from smartoa.api.errors import ApiError
from smartoa.api.schemas import AUTH_ERRORS

router = Router(tags=["flux"])

STREAM_DESCRIPTION = """Server-sent events (`text/event-stream`) of the calling contract, served by the event
stream process. First line `retry: 5000`; then each event as `id: <id>`, `event: <type>`, `data: <JSON on one line>`
and a blank line; a comment `: heartbeat` every 30 s. Types: `consigne.published`, `consigne.modified`
(`day`, `version`, `url` of the day's document), `hlar.changed` (`hlar`, `previous_hlar`), `token.expiring`
(`token_prefix`, `expires_at`), and `stream.reset` when events after the client's `Last-Event-ID` are no longer
kept (re-read the days). Resume with the header `Last-Event-ID: <id>` or `?last_event_id=<id>`: the events
missed are sent first, in order. A revoked or expired token or a removed address ends the stream. Refusals before
the stream starts are the API's JSON errors (401, 403, 429, 503). See docs/webhooks.md, "Event stream"."""

SSE_RESPONSES = {
    "200": {
        "description": "The event stream (text/event-stream), open until the client leaves or its access ends.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    "307": {"description": "Served by the event stream process: follow `Location` (same path and query)."},
}

_RESUME = {"type": "integer", "minimum": 0}
RESUME_PARAMETERS = [
    {
        "name": "Last-Event-ID",
        "in": "header",
        "required": False,
        "schema": _RESUME,
        "description": "Resume after this event id: the events missed are sent first (or `stream.reset`).",
    },
    {
        "name": "last_event_id",
        "in": "query",
        "required": False,
        "schema": _RESUME,
        "description": "The same as the `Last-Event-ID` header, for clients that cannot set it.",
    },
]


@router.get(
    "/events",
    summary="Flux d'événements du contrat / the contract's event stream (SSE)",
    description=STREAM_DESCRIPTION,
    response={**AUTH_ERRORS},
    openapi_extra={"responses": SSE_RESPONSES, "parameters": RESUME_PARAMETERS},
)
def events(request):
    """Send the client to the stream process (307), or 503 when none is configured."""
    if not settings.SMARTOA_STREAM_URL:
        raise ApiError(
            503,
            "unavailable",
            "the event stream is not served by this address; poll GET /api/v1/effacement instead",
            {"Retry-After": "60"},
        )
    response = HttpResponse(status=307, headers={"Cache-Control": "no-store"})
    response["Location"] = settings.SMARTOA_STREAM_URL + request.get_full_path()
    return response
