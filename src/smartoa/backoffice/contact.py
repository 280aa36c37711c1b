"""When the producers' machines were last seen, and the operator's early warning.

A contract's machines are *seen* when they call the API with the contract's token (the token's last use and its
address, written by ``api/auth.py`` at most once a minute), when they connect to the event stream (the token's
``last_stream_at`` and address, written by the stream process when a stream opens and once a minute while it
stays open: a connected machine received what was published) and when a webhook is delivered to them
(``notifications/queries.py``); their *last contact* is the latest API call or stream connection. The early
warning lists, before HLAR, the contracts whose D+1 is published and not acknowledged (``consignes/queries.py``
says which) and whose machines have had no contact since the current version was published, or for
``SILENCE``: the producers to phone. Each read takes a fixed number of queries, whatever the number of contracts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from django.db.models import OuterRef, Q, Subquery

from smartoa.consignes.models import Consigne
from smartoa.consignes.queries import current_rows
from smartoa.contracts.models import ApiToken
from smartoa.core.clock import now
from smartoa.notifications.queries import last_webhook_deliveries

SILENCE = timedelta(hours=24)  # machines without contact for this long are in the early warning
SHOWN = 50  # the early warning shows the most urgent ones (and counts them all)


@dataclass(frozen=True)
class LastSeen:
    """A contract's last API call and last stream connection (when, from which address) and last webhook
    delivered (None: never)."""

    api_at: datetime | None = None
    api_ip: str | None = None
    webhook_at: datetime | None = None
    stream_at: datetime | None = None
    stream_ip: str | None = None

    @property
    def contact_at(self) -> datetime | None:
        """The machines' last contact: the latest API call or stream connection (None: never)."""
        return max((m for m in (self.api_at, self.stream_at) if m is not None), default=None)

    @property
    def contact_ip(self) -> str | None:
        """The address of the last contact."""
        if self.stream_at is not None and (self.api_at is None or self.stream_at > self.api_at):
            return self.stream_ip
        return self.api_ip


def _latest(found: dict[int, tuple[datetime, str | None]], pk: int, at: datetime | None, ip: str | None) -> None:
    if at is not None and (pk not in found or at > found[pk][0]):
        found[pk] = (at, ip)


def last_seen(contract_pks: Iterable[int]) -> dict[int, LastSeen]:
    """When each contract's machines were last seen (two queries; for a page of contracts)."""
    pks = sorted(set(contract_pks))
    if not pks:
        return {}
    calls: dict[int, tuple[datetime, str | None]] = {}
    streams: dict[int, tuple[datetime, str | None]] = {}
    used = ApiToken.objects.filter(Q(last_used_at__isnull=False) | Q(last_stream_at__isnull=False), contract_id__in=pks)
    for contract_pk, api_at, api_ip, stream_at, stream_ip in used.values_list(
        "contract_id", "last_used_at", "last_used_ip", "last_stream_at", "last_stream_ip"
    ):  # the latest use among the contract's tokens, of each kind
        _latest(calls, contract_pk, api_at, api_ip)
        _latest(streams, contract_pk, stream_at, stream_ip)
    webhooks = last_webhook_deliveries(pks)
    return {
        pk: LastSeen(*calls.get(pk, (None, None)), webhooks.get(pk), *streams.get(pk, (None, None)))
        for pk in pks
        if pk in calls or pk in streams or pk in webhooks
    }


@dataclass(frozen=True)
class Silent:
    """A contract of the early warning: its D+1 consigne (version, with a stop or not, published at
    ``published_at``) is not acknowledged and its machines have had no contact since ``seen.contact_at`` (None:
    never): not since that version was published (``missed_version``), or not for ``SILENCE``."""

    contract_id: str
    name: str
    version: int
    has_stop: bool
    seen: LastSeen
    published_at: datetime | None = None

    @property
    def missed_version(self) -> bool:
        """No API call nor stream connection since the current version was published."""
        contact = self.seen.contact_at
        return contact is None or (self.published_at is not None and contact < self.published_at)


@dataclass(frozen=True)
class EarlyWarning:
    day: date
    since: datetime  # not seen since this instant
    count: int
    contracts: list[Silent]  # the SHOWN most urgent


def _latest_use(at_field: str, field: str) -> Subquery:
    tokens = ApiToken.objects.filter(contract=OuterRef("contract_id"), **{f"{at_field}__isnull": False})
    return Subquery(tokens.order_by(f"-{at_field}").values(field)[:1])


def early_warning(day: date, *, shown: int = SHOWN) -> EarlyWarning:
    """The active contracts whose consigne of ``day`` is published and its current version not acknowledged, and
    whose machines have not called the API nor connected to the stream since that version was published, or for
    ``SILENCE`` (or ever). Most urgent first: a stop to make before a day without one, then the oldest last
    contact (never seen first), then by id. Three queries."""
    moment = now()
    since = moment - SILENCE
    unacknowledged = {
        pk: (number, periods is not None)
        for pk, _day, number, periods, acknowledged in current_rows(day, day, acknowledged=True)
        if not acknowledged
    }
    rows = (
        Consigne.objects.filter(delivery_day=day, contract__active=True)
        .annotate(
            api_at=_latest_use("last_used_at", "last_used_at"),
            api_ip=_latest_use("last_used_at", "last_used_ip"),
            stream_at=_latest_use("last_stream_at", "last_stream_at"),
            stream_ip=_latest_use("last_stream_at", "last_stream_ip"),
        )
        .values_list(
            "contract_id",
            "contract__contract_id",
            "contract__name",
            "contract__display_name",
            "current_version__created_at",
            "api_at",
            "api_ip",
            "stream_at",
            "stream_ip",
        )
    )
    found: list[tuple[int, Silent]] = []
    for pk, contract_id, name, display_name, published_at, api_at, api_ip, stream_at, stream_ip in rows:
        if pk not in unacknowledged:
            continue
        seen = LastSeen(api_at=api_at, api_ip=api_ip, stream_at=stream_at, stream_ip=stream_ip)
        number, has_stop = unacknowledged[pk]
        silent = Silent(contract_id, display_name or name, number, has_stop, seen, published_at)
        contact = seen.contact_at
        if silent.missed_version or (contact is not None and contact < since):
            found.append((pk, silent))
    never = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda item: (not item[1].has_stop, item[1].seen.contact_at or never, item[1].contract_id))
    top = found[:shown]
    webhooks = last_webhook_deliveries([pk for pk, _ in top])
    contracts = [replace(s, seen=replace(s.seen, webhook_at=webhooks.get(pk))) for pk, s in top]
    return EarlyWarning(day, since, len(found), contracts)
