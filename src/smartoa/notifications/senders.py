"""How messages leave the platform: one small interface (``Sender.send`` a batch, get one outcome per message) with
three implementations, chosen by ``SMARTOA_NOTIFICATION_SENDER``:

- ``EmailSender``: Django's mail backend (``SMARTOA_EMAIL_URL``: SMTP in production), one connection per batch;
- ``WebhookSender``: signed HTTP POSTs with urllib3 (a pool of kept-alive connections per receiver, timeouts),
  ``SMARTOA_WEBHOOK_CONCURRENCY`` calls in flight at once;
- ``InMemorySender`` (``memory``): keeps what it is given in ``sent``, and fails what ``failing`` says, for the
  tests of the outbox logic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import urllib3
from django.conf import settings
from django.core import mail
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, ReadTimeoutError

from smartoa.core.clock import now
from smartoa.notifications.webhooks import SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One message as a sender sees it."""

    pk: int
    kind: str  # "email" | "webhook"
    event: str
    recipient: str  # an e-mail address, or the webhook's URL
    subject: str
    body: str  # the e-mail's text, or the JSON body posted as is
    delivery_id: str
    secret: str = ""  # the webhook's signing secret
    event_id: int | None = None  # the change's event record (X-SmartOA-Event-ID), if one


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str = ""


class Sender(Protocol):
    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        """Try to send each message; one outcome per message, in order. Never raises for a failed send."""
        ...

    def close(self) -> None: ...


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


class EmailSender:
    """E-mails through Django's configured mail backend (SMTP in production)."""

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        connection = None
        for message in messages:
            try:
                if connection is None:
                    connection = mail.get_connection(fail_silently=False)
                    connection.open()
                email = mail.EmailMessage(
                    message.subject,
                    message.body,
                    None,
                    [message.recipient],
                    connection=connection,
                    headers=_email_headers(message),
                )
                sent = connection.send_messages([email])
                outcomes.append(Outcome(True) if sent else Outcome(False, "refused by the mail server"))
            except Exception as exc:  # noqa: BLE001 - any failure is recorded on the message, which is retried
                outcomes.append(Outcome(False, _describe(exc)))
                _closed(connection)
                connection = None  # the next message starts on a fresh connection
        _closed(connection)
        return outcomes

    def close(self) -> None:
        pass


def _email_headers(message: Outgoing) -> dict[str, str]:
    headers = {"X-SmartOA-Delivery": message.delivery_id, "X-SmartOA-Event": message.event}
    if message.event_id is not None:
        headers["X-SmartOA-Event-ID"] = str(message.event_id)
    return headers


def _closed(connection) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception:
            logger.debug("mail connection close failed", exc_info=True)


DRAIN_LIMIT = 64 * 1024  # bytes of a receiver's answer read to keep its connection; a longer one is dropped


class WebhookSender:
    """Signed POSTs of the message body to the webhook's URL; a 2xx answer is a delivery, anything else (or no
    answer within SMARTOA_WEBHOOK_TIMEOUT) a failure. Redirects are not followed; certificates are checked
    (the system's authorities)."""

    def __init__(self, *, concurrency: int | None = None, timeout: float | None = None):
        self.concurrency = concurrency or settings.SMARTOA_WEBHOOK_CONCURRENCY
        self.timeout = timeout or settings.SMARTOA_WEBHOOK_TIMEOUT
        self.pool = urllib3.PoolManager(
            num_pools=self.concurrency,  # receivers whose connections are kept
            maxsize=self.concurrency,
            block=True,
            retries=False,  # the outbox retries, later, with its backoff
            timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
            headers={"User-Agent": "SMART-OA-Webhooks/1.0", "Content-Type": "application/json"},
        )
        self.threads = ThreadPoolExecutor(self.concurrency, thread_name_prefix="webhook")

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        return list(self.threads.map(self.post, messages))

    def post(self, message: Outgoing) -> Outcome:
        body = message.body.encode()
        timestamp = str(int(now().timestamp()))
        headers = {
            **self.pool.headers,
            "X-SmartOA-Event": message.event,
            "X-SmartOA-Delivery": message.delivery_id,
            "X-SmartOA-Timestamp": timestamp,
            SIGNATURE_HEADER: sign(message.secret, timestamp, body),
        }
        if message.event_id is not None:
            headers["X-SmartOA-Event-ID"] = str(message.event_id)
        try:
            response = self.pool.request(
                "POST", message.recipient, body=body, headers=headers, redirect=False, preload_content=False
            )
        except NewConnectionError as exc:  # refused, unreachable, unknown host (before the timeouts: a subclass)
            return Outcome(False, f"could not connect: {_reason(exc)}")
        except (ConnectTimeoutError, ReadTimeoutError):
            return Outcome(False, f"no answer within {self.timeout:g} s")
        except HTTPError as exc:  # TLS, protocol errors
            return Outcome(False, _describe(exc))
        status = response.status
        _release(response)
        if 200 <= status < 300:
            return Outcome(True)
        return Outcome(False, f"HTTP {status}")

    def close(self) -> None:
        self.threads.shutdown(wait=True)
        self.pool.clear()


def _reason(exc: NewConnectionError) -> str:
    """The operating system's words for a failed connection ("Connection refused"), without the URL."""
    text = str(exc)
    return text.rsplit("] ", 1)[-1] if "] " in text else _describe(exc)


def _release(response) -> None:
    """Give the connection back to the pool after reading a short answer (it can serve the next call), or drop it
    (a long or endless answer is never read)."""
    try:
        remaining = response.length_remaining
        if remaining is not None and remaining <= DRAIN_LIMIT:
            response.drain_conn()
        else:
            response.close()
    except HTTPError:
        response.close()
    finally:
        response.release_conn()


class InMemorySender:
    """Keeps every message it is given, with its outcome, in ``log``; ``failing(message)`` returns an error text to
    fail a message, or "" to deliver it."""

    def __init__(self) -> None:
        self.log: list[tuple[Outgoing, Outcome]] = []
        self.failing: Callable[[Outgoing], str] = lambda message: ""
        self._lock = threading.Lock()

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        outcomes = []
        for message in messages:
            error = self.failing(message)
            outcomes.append(Outcome(not error, error))
            with self._lock:
                self.log.append((message, outcomes[-1]))
        return outcomes

    @property
    def sent(self) -> list[Outgoing]:
        """Every message tried, in order."""
        return [message for message, _ in self.log]

    def delivered(self) -> list[Outgoing]:
        """The messages delivered (not failed), in order."""
        return [message for message, outcome in self.log if outcome.ok]

    def reset(self) -> None:
        self.log.clear()
        self.failing = lambda message: ""

    def close(self) -> None:
        pass


memory = InMemorySender()  # the one in-memory sender (SMARTOA_NOTIFICATION_SENDER=memory)


def senders() -> dict[str, Sender]:
    """The sender of each kind of message, as the settings choose (new real senders: close them after use)."""
    if settings.SMARTOA_NOTIFICATION_SENDER == "memory":
        return {"email": memory, "webhook": memory}
    return {"email": EmailSender(), "webhook": _LazyWebhookSender()}


class _LazyWebhookSender:
    """A WebhookSender created at the first webhook of a run (most runs carry only e-mails)."""

    def __init__(self) -> None:
        self._sender: WebhookSender | None = None

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        if self._sender is None:
            self._sender = WebhookSender()
        return self._sender.send(messages)

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close()
