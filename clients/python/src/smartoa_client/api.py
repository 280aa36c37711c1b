"""The API client of one contract: retries with exponential backoff and jitter on 429, 5xx and network errors
(honouring ``Retry-After``), conditional GET of the latest document (ETag / If-None-Match), history, acknowledgment
and token renewal. Every document is validated (documents.py) before it is returned."""

from __future__ import annotations

import json as jsonlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from smartoa_client import __version__
from smartoa_client.documents import Consigne, parse_document

log = logging.getLogger("smartoa_client")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class ApiError(Exception):
    """An answer the client cannot use: ``status`` (0 for a network failure), the API's ``code``, its message and
    the request id to quote."""

    def __init__(self, status: int, code: str, message: str, request_id: str | None = None):
        self.status, self.code, self.message, self.request_id = status, code, message, request_id
        text = f"HTTP {status} {code}: {message}" if status else f"{code}: {message}"
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(text)

    @property
    def auth_failure(self) -> bool:
        return self.status in (401, 403)


@dataclass
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base·2ⁿ)), at least the server's
    ``Retry-After``. ``attempts`` bounds the tries of one call (0: retry for ever, for the watch loop)."""

    base: float = 0.5
    cap: float = 30.0
    attempts: int = 6
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        wait = self.rng.uniform(0, min(self.cap, self.base * 2**attempt))
        if retry_after is not None:
            wait = max(wait, retry_after + self.rng.uniform(0, min(1.0, self.base)))
        return wait


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (now if now is not None else time.time()))


@dataclass
class Fetched:
    """The latest document: ``consigne`` None when the server answered 304 (unchanged since ``etag``)."""

    consigne: Consigne | None
    raw: bytes
    etag: str | None
    not_modified: bool = False


@dataclass
class AckState:
    application_date: date
    acknowledged: bool
    version: int
    acknowledged_version: int | None
    acknowledged_at: datetime | None
    deadline: datetime
    locked: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AckState:
        def moment(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            application_date=date.fromisoformat(data["application_date"]),
            acknowledged=bool(data["acknowledged"]),
            version=int(data["version"]),
            acknowledged_version=data.get("acknowledged_version"),
            acknowledged_at=moment(data.get("acknowledged_at")),
            deadline=datetime.fromisoformat(data["deadline"]),
            locked=bool(data["locked"]),
        )


class Client:
    """One contract's calls to ``base_url`` (``https://host``; the ``/api/v1`` prefix is added).

    Thread-safe for the token (renew_token replaces it); each call may retry per ``backoff``. ``on_success`` is
    called after every answered call (status < 500, not 429): the store's "last successful call"."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        contract: str | None = None,
        timeout: float = 20.0,
        backoff: Backoff | None = None,
        on_success: Callable[[], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.contract = contract
        self._token = token
        self._lock = threading.Lock()
        self.backoff = backoff or Backoff()
        self.on_success = on_success
        self.http = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": f"smartoa-client/{__version__}"},
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def token(self) -> str:
        with self._lock:
            return self._token

    def url(self, path: str) -> str:
        return f"{self.base_url}/api/v1{path}"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    # --- the retry loop ---------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
        accept: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """The answer of ``method path`` with a status in ``accept``; retries 429/5xx/network errors (a call that is
        not idempotent is retried only when the request could not be sent); ApiError otherwise."""
        attempt = 0
        while True:
            try:
                response = self.http.request(
                    method,
                    self.url(path),
                    params=params,
                    json=json,
                    headers={**self.auth_headers(), **(headers or {})},
                )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                error = ApiError(0, "network_error", f"{type(exc).__name__}: {exc or 'no answer'}")
                if sent and not idempotent:
                    raise error from exc
                self._wait_or_raise(attempt, error, None)
                attempt += 1
                continue
            if response.status_code in accept:
                self._succeeded()
                return response
            error = error_of(response)
            if response.status_code in RETRYABLE_STATUS:
                self._wait_or_raise(attempt, error, retry_after_seconds(response.headers.get("Retry-After")))
                attempt += 1
                continue
            raise error

    def _wait_or_raise(self, attempt: int, error: ApiError, retry_after: float | None) -> None:
        if self.backoff.attempts and attempt + 1 >= self.backoff.attempts:
            raise error
        wait = self.backoff.delay(attempt, retry_after)
        log.warning("%s %s; retrying in %.1f s", self.contract or "", error, wait)
        self.backoff.sleep(wait)

    def _succeeded(self) -> None:
        if self.on_success is not None:
            self.on_success()

    # --- the calls --------------------------------------------------------------------------------------------

    def latest(self, etag: str | None = None) -> Fetched:
        """``GET /effacement``, conditional on ``etag``; the validated document, or not_modified on 304."""
        headers = {"If-None-Match": etag} if etag else {}
        response = self.request("GET", "/effacement", headers=headers, accept=(200, 304))
        new_etag = response.headers.get("ETag") or None
        if response.status_code == 304:
            return Fetched(None, b"", new_etag or etag, not_modified=True)
        raw = response.content
        return Fetched(parse_document(raw, self.contract), raw, new_etag)

    def days(self, start: date, end: date) -> list[tuple[Consigne, bytes]]:
        """``GET /effacements?start&end``: each published day's current document (validated) and its JSON."""
        response = self.request("GET", "/effacements", params={"start": start.isoformat(), "end": end.isoformat()})
        documents = response.json()
        if not isinstance(documents, list):
            raise ApiError(response.status_code, "unexpected_answer", "expected a JSON list of documents")
        result = []
        for document in documents:
            raw = jsonlib.dumps(document, ensure_ascii=False).encode()
            day = _day_of(document)
            result.append((parse_document(document, self.contract, day), raw))
        return result

    def day(self, day: date) -> tuple[Consigne, bytes] | None:
        found = self.days(day, day)
        return found[0] if found else None

    def ack_state(self, day: date) -> AckState:
        response = self.request("GET", "/acquiescement", params={"application_date": day.isoformat()})
        return AckState.from_json(response.json())

    def acknowledge(self, day: date, version: int | None = None) -> AckState:
        """``POST /acquiescement`` (repeatable until HLAR, so retried); ``version`` guards against a newer one."""
        body: dict[str, Any] = {"application_date": day.isoformat()}
        if version is not None:
            body["version"] = version
        response = self.request("POST", "/acquiescement", json=body, accept=(201,))
        return AckState.from_json(response.json())

    def renew_token(self) -> tuple[str, datetime]:
        """``POST /token/renew``: the new token (now used by this client) and its expiry. Not retried once sent: the
        old token is revoked by the call, and a lost answer cannot be replayed."""
        response = self.request("POST", "/token/renew", idempotent=False, accept=(201,))
        data = response.json()
        with self._lock:
            self._token = data["token"]
        return data["token"], datetime.fromisoformat(data["expires_at"])

    def sandbox(self, day: date | None = None) -> dict[str, Any]:
        """``POST /sandbox/consigne`` (test environment only): a test consigne for this contract."""
        body = {"day": day.isoformat()} if day else {}
        return dict(self.request("POST", "/sandbox/consigne", json=body, idempotent=False, accept=(200, 201)).json())


def _day_of(document: Any) -> date | None:
    try:
        return date.fromisoformat(document["application_date"])
    except (KeyError, TypeError, ValueError):
        return None


def error_of(response: httpx.Response) -> ApiError:
    """The ApiError of a refused answer, from its JSON body when there is one."""
    code, message, request_id = "http_error", response.reason_phrase or "error", None
    try:
        body = response.json()
        if isinstance(body, dict):
            code = str(body.get("error") or code)
            message = str(body.get("message") or message)
            request_id = body.get("request_id")
    except ValueError:
        text = response.text.strip()
        if text:
            message = text[:200]
    return ApiError(response.status_code, code, message, request_id or response.headers.get("X-Request-ID"))
