"""Reading the outbox: the deliveries that fail (for the back office's control screen), the counts by state, and
a contract's webhook delivery log (for its users), and when each contract's last webhook was delivered."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, Max, Q

from smartoa.notifications.models import OutboxMessage

Status = OutboxMessage.Status


def failing_deliveries(limit: int = 50) -> list[OutboxMessage]:
    """Messages failed for good, or still pending after two tries or more, newest first."""
    failing = OutboxMessage.objects.filter(Q(status=Status.FAILED) | Q(status=Status.PENDING, attempts__gte=2))
    return list(failing.select_related("contract").order_by("-created_at", "-id")[:limit])


def delivery_counts() -> dict[str, int]:
    """How many messages are pending, delivered and failed (every state present, 0 if none)."""
    counts = dict.fromkeys(Status.values, 0)
    counts.update(OutboxMessage.objects.values_list("status").annotate(n=Count("id")).order_by())
    return counts


def webhook_log(contract, limit: int = 20) -> list[OutboxMessage]:
    """The contract's latest webhook deliveries, newest first."""
    messages = OutboxMessage.objects.filter(contract=contract, kind=OutboxMessage.Kind.WEBHOOK)
    return list(messages.order_by("-created_at", "-id")[:limit])


def last_webhook_deliveries(contract_pks: Iterable[int]) -> dict[int, datetime]:
    """When the latest webhook was delivered to each of the contracts that had one delivered (one query)."""
    delivered = OutboxMessage.objects.filter(
        contract_id__in=list(contract_pks), kind=OutboxMessage.Kind.WEBHOOK, status=Status.DELIVERED
    )
    return dict(delivered.values_list("contract_id").annotate(at=Max("delivered_at")).order_by())
