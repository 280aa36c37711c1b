"""Delivering the outbox: claim due messages with a lease, send them outside any transaction, then record each
outcome in its own committed transaction.

- A claim sets ``lease_until`` (``SMARTOA_OUTBOX_LEASE_SECONDS``) and counts the attempt. A worker killed while
  sending loses nothing: once the lease has passed, another run claims the message again (the receiver may then
  see the same ``X-SmartOA-Delivery`` twice; it never sees a message lost).
- A message is marked delivered only after its sender succeeded. A failure is retried after
  ``SMARTOA_OUTBOX_RETRY_SECONDS`` × 2^(attempt − 1) (at most 6 hours), until ``SMARTOA_OUTBOX_MAX_ATTEMPTS``;
  then it is marked failed. A webhook removed meanwhile fails at once.
- Claims skip rows locked by another worker (PostgreSQL), or are serialised by SQLite's write lock: two workers
  never hold the same message.
- In order per contract and destination: a message about a contract is claimed only when no earlier message (lower
  id) of the same kind, contract and recipient (webhook URL or e-mail address) is still pending, whether it waits for
  a retry or is being sent. Messages about no single contract (an account's security e-mails: password reset, first
  connection; e-mails grouping several contracts) wait behind nothing: a reset link must not queue behind an e-mail
  being retried. A receiver down for an hour gets its calls afterwards in the order they were written; a later
  message never overtakes a pending earlier one (it waits behind it, at worst until the next periodic run).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q

from smartoa.core.clock import now
from smartoa.core.metrics import DELIVERIES, after_commit
from smartoa.core.sql import chunks
from smartoa.notifications.models import OutboxMessage
from smartoa.notifications.outbox import rendered
from smartoa.notifications.senders import Outcome, Outgoing, Sender, senders

BATCH = 500  # messages claimed at once
MAX_DELAY = timedelta(hours=6)
Status = OutboxMessage.Status
WEBHOOK_GONE = "webhook removed"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try."""
    seconds = settings.SMARTOA_OUTBOX_RETRY_SECONDS * 2 ** min(max(attempts - 1, 0), 30)
    return min(timedelta(seconds=seconds), MAX_DELAY)


def deliver_due(
    *,
    among: Sequence[str] | None = None,
    budget_seconds: float = 50.0,
    batch: int = BATCH,
    should_stop: Callable[[], bool] = lambda: False,
) -> Counter:
    """Deliver due messages (only those whose delivery id is in ``among``, if given), batch after batch, until
    none is due, ``budget_seconds`` have passed or ``should_stop()``. Returns the counts: delivered, retried
    (failed, to try again), failed (for good)."""
    counts: Counter = Counter()
    chosen = senders()
    deadline = time.monotonic() + budget_seconds
    parts = [None] if among is None else list(chunks(sorted(set(among)), batch))
    try:
        fail_interrupted()
        for part in parts:
            while time.monotonic() < deadline and not should_stop():
                token, claimed = claim(batch, among=part)
                if not claimed:
                    break
                outcomes = send(claimed, chosen)
                counts.update(settle(token, claimed, outcomes))
    finally:
        for sender in set(chosen.values()):
            sender.close()
    return counts


def _free(moment: datetime) -> Q:
    """Not leased, or leased by a run whose lease has passed."""
    return Q(lease_until__isnull=True) | Q(lease_until__lte=moment)


def _behind_an_earlier_one() -> Exists:
    """An earlier message of the same kind, contract and recipient is still pending: this one must wait."""
    return Exists(
        OutboxMessage.objects.filter(
            status=Status.PENDING,
            kind=OuterRef("kind"),
            recipient=OuterRef("recipient"),
            contract_id=OuterRef("contract_id"),
            pk__lt=OuterRef("pk"),
        )
    )


def claim(limit: int, *, among: Sequence[str] | None = None) -> tuple[str, list[OutboxMessage]]:
    """Lease up to ``limit`` due messages (whose delivery id is in ``among``, if given) to this run, committed at
    once; returns the lease token and them."""
    moment, token = now(), uuid.uuid4().hex
    with transaction.atomic():
        due = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(_free(moment), status=Status.PENDING, next_attempt_at__lte=moment)
            .filter(attempts__lt=settings.SMARTOA_OUTBOX_MAX_ATTEMPTS)
            .exclude(Q(contract_id__isnull=False) & _behind_an_earlier_one())
        )
        if among is not None:
            due = due.filter(delivery_id__in=among)
        pks = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
        if not pks:
            return token, []
        OutboxMessage.objects.filter(pk__in=pks).update(
            lease_until=moment + timedelta(seconds=settings.SMARTOA_OUTBOX_LEASE_SECONDS),
            lease_token=token,
            attempts=F("attempts") + 1,
            updated_at=moment,
        )
    claimed = OutboxMessage.objects.filter(pk__in=pks, lease_token=token).select_related("webhook")
    return token, list(claimed.order_by("pk"))


def fail_interrupted() -> int:
    """Fail for good the messages whose last allowed try was claimed by a worker that died (lease passed);
    returns how many."""
    moment = now()
    exhausted = OutboxMessage.objects.filter(
        _free(moment), status=Status.PENDING, attempts__gte=settings.SMARTOA_OUTBOX_MAX_ATTEMPTS
    )
    with transaction.atomic():
        exhausted.filter(sensitive=True).update(context={}, body="")
        return exhausted.update(
            status=Status.FAILED,
            last_error="interrupted during its last try",
            lease_until=None,
            lease_token="",  # no lease, not a password  # nosec B106
            updated_at=moment,
        )


def send(messages: Sequence[OutboxMessage], chosen: dict[str, Sender]) -> list[Outcome]:
    """Render each e-mail and hand each message to its sender (no transaction is open meanwhile); one outcome per
    message, in order."""
    outcomes: dict[int, Outcome] = {}
    by_kind: dict[str, list[Outgoing]] = {"email": [], "webhook": []}
    for message in messages:
        webhook, subject, body = message.webhook, "", message.body
        if message.kind == OutboxMessage.Kind.WEBHOOK:
            if webhook is None or not webhook.active:
                outcomes[message.pk] = Outcome(False, WEBHOOK_GONE)
                continue
            message.recipient = webhook.url  # the URL set now, even if it changed since the message was written
        else:
            try:
                subject, body = rendered(message)
            except Exception as exc:  # noqa: BLE001 - a message that cannot be rendered fails; the others go
                outcomes[message.pk] = Outcome(False, f"could not be written: {type(exc).__name__}: {exc}"[:300])
                continue
        by_kind[message.kind].append(
            Outgoing(
                pk=message.pk,
                kind=message.kind,
                event=message.event,
                recipient=message.recipient,
                subject=subject,
                body=body,
                delivery_id=str(message.delivery_id),
                event_id=message.event_record_id,
                secret=webhook.secret if webhook is not None else "",
            )
        )
    for kind, outgoing in by_kind.items():
        if outgoing:
            outcomes.update(zip((o.pk for o in outgoing), chosen[kind].send(outgoing), strict=True))
    return [outcomes[message.pk] for message in messages]


def settle(token: str, messages: Sequence[OutboxMessage], outcomes: Sequence[Outcome]) -> Counter:
    """Record the outcomes of the messages still leased under ``token`` (one committed transaction): delivered,
    to retry later, or failed for good. Returns the counts."""
    moment, counts = now(), Counter[str]()
    maximum = settings.SMARTOA_OUTBOX_MAX_ATTEMPTS
    with transaction.atomic():
        held = set(
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=[m.pk for m in messages], lease_token=token)
            .values_list("pk", flat=True)
        )
        delivered = [m.pk for m, o in zip(messages, outcomes, strict=True) if o.ok and m.pk in held]
        done = OutboxMessage.objects.filter(pk__in=delivered)
        done.filter(sensitive=True).update(context={}, body="")
        done.update(
            status=Status.DELIVERED,
            delivered_at=moment,
            lease_until=None,
            lease_token="",  # no lease, not a password  # nosec B106
            last_error="",
            updated_at=moment,
        )
        if delivered:
            counts["delivered"] = len(delivered)
        failures = []
        for message, outcome in zip(messages, outcomes, strict=True):
            if outcome.ok or message.pk not in held:
                continue
            final = outcome.error == WEBHOOK_GONE or message.attempts >= maximum
            message.status = Status.FAILED if final else Status.PENDING
            message.next_attempt_at = moment if final else moment + retry_delay(message.attempts)
            message.last_error = outcome.error[:500]
            message.lease_until, message.lease_token, message.updated_at = None, "", moment
            counts["failed" if final else "retried"] += 1
            failures.append(message)
        fields = ["status", "next_attempt_at", "last_error", "lease_until", "lease_token", "updated_at"]
        OutboxMessage.objects.bulk_update(failures, fields, batch_size=200)
        erased = [m.pk for m in failures if m.sensitive and m.status == Status.FAILED]
        OutboxMessage.objects.filter(pk__in=erased).update(context={}, body="")
        settled = Counter[tuple[str, str]]()
        for message, outcome in zip(messages, outcomes, strict=True):
            if message.pk in held:
                kept = outcome.ok or message.status == Status.PENDING
                settled[message.kind, "delivered" if outcome.ok else "retried" if kept else "failed"] += 1
        for (kind, result), count in settled.items():
            after_commit(DELIVERIES, count, kind, result)
    return counts
