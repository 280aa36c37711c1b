"""When the producers' machines were last seen, and the operator's early warning.

A contract's machines are *seen* when they call the API with the contract's token (the token's last use and its
address, written by ``api/auth.py`` at most once a minute) and when a webhook is delivered to them
(``notifications/queries.py``). The early warning lists, before HLAR, the contracts whose D+1 is published and
not acknowledged (``consignes/queries.py`` says which) and whose machines have not called the API for
``SILENCE``: the producers to phone. Each read takes a fixed number of queries, whatever the number of
contracts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import OuterRef, Q, Subquery

from smartoa.consignes.queries import current_rows
from smartoa.contracts.models import ApiToken, Contract
from smartoa.core.clock import now
from smartoa.notifications.queries import last_webhook_deliveries

SILENCE = timedelta(hours=24)  # machines not seen for this long are in the early warning
SHOWN = 50  # the early warning shows the most urgent ones (and counts them all)


@dataclass(frozen=True)
class LastSeen:
    """A contract's last API call (when, from which address) and last webhook delivered (None: never)."""

    api_at: datetime | None = None
    api_ip: str | None = None
    webhook_at: datetime | None = None


def last_seen(contract_pks: Iterable[int]) -> dict[int, LastSeen]:
    """When each contract's machines were last seen (two queries; for a page of contracts)."""
    pks = sorted(set(contract_pks))
    if not pks:
        return {}
    calls: dict[int, tuple[datetime, str | None]] = {}
    used = ApiToken.objects.filter(contract_id__in=pks, last_used_at__isnull=False)
    for contract_pk, at, ip in used.order_by("contract_id", "-last_used_at").values_list(
        "contract_id", "last_used_at", "last_used_ip"
    ):
        calls.setdefault(contract_pk, (at, ip))  # the latest use among the contract's tokens
    webhooks = last_webhook_deliveries(pks)
    return {
        pk: LastSeen(*calls.get(pk, (None, None)), webhook_at=webhooks.get(pk))
        for pk in pks
        if pk in calls or pk in webhooks
    }


@dataclass(frozen=True)
class Silent:
    """A contract of the early warning: its D+1 consigne (version, with a stop or not) is not acknowledged and
    its machines have not called the API since ``seen.api_at`` (None: never)."""

    contract_id: str
    name: str
    version: int
    has_stop: bool
    seen: LastSeen


@dataclass(frozen=True)
class EarlyWarning:
    day: date
    since: datetime  # not seen since this instant
    count: int
    contracts: list[Silent]  # the SHOWN most urgent


def _latest_use(field: str) -> Subquery:
    tokens = ApiToken.objects.filter(contract=OuterRef("pk"), last_used_at__isnull=False)
    return Subquery(tokens.order_by("-last_used_at").values(field)[:1])


def early_warning(day: date, *, shown: int = SHOWN) -> EarlyWarning:
    """The active contracts whose consigne of ``day`` is published and its current version not acknowledged, and
    whose machines have not called the API for ``SILENCE`` (or ever). Most urgent first: a stop to make before a
    day without one, then the longest silence (never seen first), then by id. Three queries."""
    moment = now()
    since = moment - SILENCE
    unacknowledged = {
        pk: (number, periods is not None)
        for pk, _day, number, periods, acknowledged in current_rows(day, day, acknowledged=True)
        if not acknowledged
    }
    silent = (
        Contract.objects.filter(active=True, consignes__delivery_day=day)
        .annotate(api_at=_latest_use("last_used_at"), api_ip=_latest_use("last_used_ip"))
        .filter(Q(api_at__isnull=True) | Q(api_at__lt=since))
        .values_list("pk", "contract_id", "name", "display_name", "api_at", "api_ip")
    )
    found = [row for row in silent if row[0] in unacknowledged]
    never = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda row: (not unacknowledged[row[0]][1], row[4] or never, row[1]))
    top = found[:shown]
    webhooks = last_webhook_deliveries([row[0] for row in top])
    contracts = [
        Silent(
            contract_id=contract_id,
            name=display_name or name,
            version=unacknowledged[pk][0],
            has_stop=unacknowledged[pk][1],
            seen=LastSeen(api_at, api_ip, webhooks.get(pk)),
        )
        for pk, contract_id, name, display_name, api_at, api_ip in top
    ]
    return EarlyWarning(day, since, len(found), contracts)
