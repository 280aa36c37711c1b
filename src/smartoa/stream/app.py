"""The stream process's HTTP side: ``GET /api/v1/events`` (server-sent events of the calling contract) on a
Starlette application served by uvicorn (``smartoa stream``).

Before the stream starts, the call is authenticated as every API call (the same checks and the same JSON refusals:
401, 403, 429, 503 when the database is away), each answer with its ``X-Request-ID``. Then: ``retry: 5000``; the
records after the client's ``Last-Event-ID`` header (or ``?last_event_id=``), or ``stream.reset`` when some of them
are no longer kept; then the live events and a heartbeat comment every SMARTOA_STREAM_HEARTBEAT_SECONDS. A revoked
or expired token or a removed address ends the stream (``hub.py``). The format: docs/webhooks.md, "Event stream".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from django.db import InterfaceError, OperationalError
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smartoa.api.auth import caller_ip
from smartoa.api.errors import ApiError, database_unavailable, error_body
from smartoa.api.hotpath import BAD_HOST, host_allowed
from smartoa.core import outage
from smartoa.core.clock import now
from smartoa.core.logging import HEADER, bind_request_id, new_request_id, unbind_request_id
from smartoa.core.metrics import CONTENT_TYPE, exposition
from smartoa.core.probes import metrics_allowed
from smartoa.domain.calendar import iso
from smartoa.stream import store
from smartoa.stream.hub import Hub, Subscriber, event_chunk

log = logging.getLogger("smartoa.stream")

PATH = "/api/v1/events"
RETRY = b"retry: 5000\n\n"
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
    (b"x-content-type-options", b"nosniff"),
]


def last_event_id(header: str | None, query_string: bytes) -> int | None:
    """The id the client resumes after: the ``Last-Event-ID`` header, else ``?last_event_id=``; ApiError 422 when
    it is not a whole number."""
    text = header
    if text is None:
        values = parse_qs(query_string.decode("latin-1")).get("last_event_id")
        text = values[-1] if values else None
    if text is None or not text.strip():
        return None
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ApiError(422, "invalid_input", "Last-Event-ID must be the id of an event received (a whole number)")
    return int(text)


def reset_chunk(contract_id: str, record_id: int, kept_since) -> bytes:
    """The event telling a client that events it missed are no longer kept (``id``: the latest record, so that
    it resumes from there once it has read the days again)."""
    since = f"events before {iso(kept_since)}" if kept_since is not None else "the events after your Last-Event-ID"
    payload = {
        "type": "stream.reset",
        "contract": contract_id,
        "message": f"{since} are no longer kept; re-read the days",
    }
    data = json.dumps(payload, ensure_ascii=False, separators=(", ", ": "))
    return f"id: {record_id}\nevent: stream.reset\ndata: {data}\n\n".encode()


async def refuse(send: Send, error: ApiError, request_id: str) -> None:
    """A JSON refusal, as the API answers it."""
    body = error_body(error.status, error.code, error.message, request_id)
    headers = [
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        (b"content-length", str(len(body)).encode()),
        (HEADER.lower().encode(), request_id.encode()),
        *[(name.lower().encode(), str(value).encode()) for name, value in error.headers.items()],
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class EventsEndpoint:
    """The ASGI endpoint of ``GET /api/v1/events``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        token = bind_request_id(request_id)
        try:
            await self.serve(scope, receive, send, request_id)
        finally:
            unbind_request_id(token)

    async def serve(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        if scope["method"] != "GET":
            error = ApiError(405, "method_not_allowed", "only GET is allowed here", {"Allow": "GET"})
            return await refuse(send, error, request_id)
        if not host_allowed({"HTTP_HOST": headers.get("host", "")}):
            return await refuse(send, BAD_HOST, request_id)
        client = scope.get("client") or ("", 0)
        ip = caller_ip(client[0], headers.get("x-forwarded-for"))
        authorization = headers.get("authorization")
        hub = self.hub
        seen = hub.last_id
        try:
            after = last_event_id(headers.get("last-event-id"), scope.get("query_string", b""))
            opening = await hub.store.run(store.open_stream, authorization, ip, now(), after)
        except ApiError as error:
            return await refuse(send, error, request_id)
        except (OperationalError, InterfaceError) as exc:
            return await refuse(send, database_unavailable(exc), request_id)
        outage.database.succeeded()
        caller = opening.caller
        subscriber = Subscriber(
            caller.contract_pk, caller.contract_id, caller.token_pk, authorization, ip, opening.expires_at
        )
        upto = hub.subscribe(subscriber)
        watcher = asyncio.create_task(_watch_disconnect(receive, subscriber))
        try:
            if hub.access_marks.get(caller.contract_pk, 0) > seen:  # its access changed while it was checked
                hub.start_check(caller.contract_pk)
            hub.uses.note(caller.token_pk, now(), ip)
            status_headers = [*_STREAM_HEADERS, (HEADER.lower().encode(), request_id.encode())]
            await send({"type": "http.response.start", "status": 200, "headers": status_headers})
            await _body(send, RETRY)
            sent = await self.catch_up(send, subscriber, opening, after, upto)
            await self.follow(send, subscriber, sent)
        except OSError:  # the client went away while we wrote
            pass
        finally:
            hub.unsubscribe(subscriber)
            watcher.cancel()

    async def catch_up(self, send: Send, subscriber: Subscriber, opening: store.Opening, after, upto: int) -> int:
        """Replay the contract's records in (``after``, ``upto``] (or send ``stream.reset``); returns the id the
        client has everything up to (the live records up to it are not sent again)."""
        if after is None:
            return upto
        if opening.reset:
            latest = max(upto, opening.latest)
            await _body(send, reset_chunk(subscriber.contract_id, latest, opening.kept_since))
            return latest
        for record in await self.hub.store.run(store.replay, subscriber.contract_pk, after, upto):
            await _body(send, event_chunk(record.id, record.type, record.payload()))
        return max(after, upto)

    async def follow(self, send: Send, subscriber: Subscriber, sent: int) -> None:
        """Send what the hub queues until it closes the stream or the client leaves."""
        while True:
            item = await subscriber.queue.get()
            if item is None:
                break
            record_id, chunk = item
            if record_id and record_id <= sent:  # read by the hub after the client's Last-Event-ID: already had
                continue
            await _body(send, chunk)
        if subscriber.closed and subscriber.closed != "disconnected":
            with contextlib.suppress(OSError):
                await _body(send, f": closed: {subscriber.closed}\n\n".encode(), more=False)


async def _body(send: Send, chunk: bytes, *, more: bool = True) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": more})


async def _watch_disconnect(receive: Receive, subscriber: Subscriber) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            subscriber.close("disconnected")
            return


async def health(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    return JSONResponse(
        {"status": "ok", "streams": hub.open_streams, "last_id": hub.last_id, "listening": hub.listening}
    )


async def ready(request: Request) -> Response:
    """``/readyz``: the web processes' checks (core/health.py), run in the stream's database threads."""
    from smartoa.core.health import readiness

    hub: Hub = request.app.state.hub
    is_ready, checks = await hub.store.run(readiness)
    body = {"status": "ok" if is_ready else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if is_ready else 503, headers={"Cache-Control": "no-store"})


class StreamCollector(Collector):
    """The stream process's gauge: its open streams."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily("smartoa_stream_open_connections", "Event streams open on this stream process")
        gauge.add_metric([], self.hub.open_streams)
        yield gauge


async def metrics(request: Request) -> Response:
    """``/metrics`` of the stream process (its own counters and open streams), for SMARTOA_METRICS_ALLOWED only."""
    client = request.client.host if request.client else ""
    if not metrics_allowed(client, request.headers.get("x-forwarded-for")):
        body = error_body(404, "not_found", "no such path on the event stream server (GET /api/v1/events)")
        return Response(body, status_code=404, media_type="application/json")
    payload = exposition(StreamCollector(request.app.state.hub))
    return Response(payload, headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})


async def not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    code = "method_not_allowed" if status == 405 else "not_found"
    body = error_body(status, code, "no such path on the event stream server (GET /api/v1/events)")
    return Response(body, status_code=status, media_type="application/json")


def build_app(hub: Hub | None = None) -> Starlette:
    """The stream process's application; its hub starts and stops with it."""
    hub = hub or Hub.from_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    app = Starlette(
        routes=[
            Route(PATH, EventsEndpoint(hub)),
            Route("/healthz", health),
            Route("/readyz", ready),
            Route("/metrics", metrics),
        ],
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_found},
    )
    app.state.hub = hub
    return app
