"""The event stream ``GET /api/v1/events`` (server-sent events): a line parser, and a reader that reconnects with
backoff and resumes from the last event id received (``Last-Event-ID``), treating heartbeats as liveness (a silent
connection is dropped after ``idle_timeout`` and reopened)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from smartoa_client.api import RETRYABLE_STATUS, ApiError, Backoff, Client, error_of, retry_after_seconds

log = logging.getLogger("smartoa_client")

HEARTBEAT = "heartbeat"  # the type given to comment lines (": heartbeat")


@dataclass
class Event:
    """One event: ``type`` (``consigne.published``…, or ``heartbeat`` for a comment line), its ``id`` and data."""

    type: str
    id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    raw: str = ""

    @property
    def contract(self) -> str | None:
        return self.data.get("contract")

    @property
    def day(self) -> str | None:
        return self.data.get("day")

    @property
    def version(self) -> int | None:
        value = self.data.get("version")
        return int(value) if value is not None else None


class SseParser:
    """The text/event-stream format, line by line (WHATWG's rules: ``field: value``, one leading space removed,
    ``data`` lines joined by newlines, a blank line dispatches, ``:`` starts a comment)."""

    def __init__(self) -> None:
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None
        self._type = ""
        self._data: list[str] = []
        self._id_seen = False

    def feed(self, line: str) -> Event | None:
        """The event completed by ``line`` (without its line ending), if any; comments come back as heartbeats."""
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return Event(HEARTBEAT, raw=line[1:].strip())
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._type = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self.last_event_id, self._id_seen = value, True
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> Event | None:
        if not self._data and not self._type:
            self._id_seen = False
            return None
        text = "\n".join(self._data)
        kind = self._type or "message"
        self._type, self._data = "", []
        event_id = self.last_event_id if self._id_seen else None
        self._id_seen = False
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {"text": text}
        if not isinstance(data, dict):
            data = {"value": data}
        return Event(kind, event_id, data, text)


class StreamUnavailable(Exception):
    """The server has no event stream (404, 501, 503 without a stream process): use conditional polling."""


class EventStream:
    """Follow the contract's event stream for ever: yields events (and heartbeats), reconnecting after a network
    error, a 429/5xx or a silence longer than ``idle_timeout``, with backoff, from the last id received.

    Raises ApiError on 401/403 (the token or address is refused: retrying cannot help) and StreamUnavailable
    when the server does not serve the stream."""

    def __init__(
        self,
        client: Client,
        last_event_id: str | None = None,
        *,
        idle_timeout: float = 90.0,
        backoff: Backoff | None = None,
        stop: threading.Event | None = None,
        on_connect: Callable[[], None] | None = None,
        max_failures: int = 0,
    ):
        self.client = client
        self.last_event_id = last_event_id
        self.idle_timeout = idle_timeout
        self.backoff = backoff or Backoff(base=1.0, cap=60.0, attempts=0)
        self.stop = stop or threading.Event()
        self.on_connect = on_connect
        self.max_failures = max_failures  # consecutive failed connections before StreamUnavailable (0: never)
        self.connections = 0
        self.retry_ms: int | None = None
        self._response: httpx.Response | None = None

    def close(self) -> None:
        """Stop following (from another thread too): the open connection is closed."""
        self.stop.set()
        response = self._response
        if response is not None:
            try:
                response.close()
            except Exception:
                log.debug("closing the stream", exc_info=True)

    def __iter__(self) -> Iterator[Event]:
        attempt = 0
        while not self.stop.is_set():
            try:
                for event in self._connect_once():
                    attempt = 0  # a connection that delivered something counts as healthy
                    yield event
                    if self.stop.is_set():
                        return
                error: ApiError = ApiError(0, "stream_closed", "the server closed the stream")
                retry_after = None
            except (httpx.TransportError, httpx.StreamError) as exc:
                if self.stop.is_set():
                    return
                error, retry_after = ApiError(0, "network_error", f"{type(exc).__name__}: {exc}"), None
            except _Retry as retry:
                error, retry_after = retry.error, retry.retry_after
            if self.stop.is_set():
                return
            if self.max_failures and attempt + 1 >= self.max_failures:
                raise StreamUnavailable(f"{attempt + 1} connections failed in a row, the last: {error}")
            wait = self.backoff.delay(attempt, retry_after)
            if self.retry_ms is not None and retry_after is None:
                wait = max(wait, self.retry_ms / 1000 * self.backoff.rng.uniform(0.5, 1.0))
            log.warning("%s event stream: %s; reconnecting in %.1f s", self.client.contract or "", error, wait)
            attempt += 1
            self.stop.wait(wait)

    def _connect_once(self) -> Iterator[Event]:
        url = self.client.url("/events")
        timeout = httpx.Timeout(connect=15.0, read=self.idle_timeout, write=15.0, pool=15.0)
        for _hop in range(5):  # redirects (Django answers 307 to the stream process), the token kept
            headers = {**self.client.auth_headers(), "Accept": "text/event-stream", "Cache-Control": "no-store"}
            if self.last_event_id:
                headers["Last-Event-ID"] = self.last_event_id
            request = self.client.http.build_request("GET", url, headers=headers, timeout=timeout)
            response = self.client.http.send(request, stream=True)
            if response.status_code in (301, 302, 303, 307, 308) and "Location" in response.headers:
                target = urljoin(url, response.headers["Location"])
                response.close()
                if urlsplit(url).scheme == "https" and urlsplit(target).scheme != "https":
                    raise ApiError(response.status_code, "unsafe_redirect", f"refusing to follow {target} over http")
                url = target
                continue
            break
        else:
            raise ApiError(0, "too_many_redirects", "the event stream's URL redirects too often")
        self._response = response
        try:
            yield from self._read(response)
        finally:
            self._response = None
            response.close()

    def _read(self, response: httpx.Response) -> Iterator[Event]:
        status = response.status_code
        if status != 200:
            response.read()
            error = error_of(response)
            if status in (401, 403):
                raise error
            # 404/405/501: no stream on this server; Django's 503 when no stream process is configured.
            if status in (404, 405, 501) or (status == 503 and _no_stream_here(error, response)):
                raise StreamUnavailable(str(error))
            if status in RETRYABLE_STATUS:
                raise _Retry(error, retry_after_seconds(response.headers.get("Retry-After")))
            raise error
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith("text/event-stream"):
            raise StreamUnavailable(f"the server answered {content_type or 'no content type'}, not an event stream")
        self.connections += 1
        if self.on_connect is not None:
            self.on_connect()
        parser = SseParser()
        for line in response.iter_lines():
            event = parser.feed(line)
            if parser.retry_ms is not None:
                self.retry_ms = parser.retry_ms
            if event is None:
                continue
            if event.id is not None:
                self.last_event_id = event.id
            yield event


def _no_stream_here(error: ApiError, response: httpx.Response) -> bool:
    """Django's answer when no stream process is configured (a database outage's 503 is retried instead)."""
    return "Retry-After" not in response.headers or "stream" in error.message


class _Retry(Exception):
    def __init__(self, error: ApiError, retry_after: float | None):
        self.error, self.retry_after = error, retry_after
