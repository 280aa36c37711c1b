"""Refused API calls (401 and 403): rate-limited per address, audited and logged in aggregate.

Only refusals are counted, in the cache shared by all workers (django-ratelimit over Django's cache: the
database by default, Redis when configured). Past ``SMARTOA_API_FAILURE_RATE`` refusals in the period, an
address's refusals become 429 with ``Retry-After``. A request that authenticates never reaches the cache: a
client's correct calls are served even while a misconfigured neighbour behind the same address is limited (and
a limited address learns nothing it could use: tokens are 256-bit random).

A per-process tally reports each address once per ``REPORT_EVERY``: the first refusal at once in the log, then
one audit event (``api.refused``, with counts by error code and the contracts concerned) and one log line with
the count, instead of a row and a line per request.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django_ratelimit.core import get_usage

from smartoa.api.errors import ApiError
from smartoa.audit.services import record
from smartoa.core import outage
from smartoa.domain.calendar import iso

log = logging.getLogger("smartoa.security")

GROUP = "smartoa.api.refused"
REPORT_EVERY = timedelta(minutes=5)
MAX_ADDRESSES = 10_000  # per period; beyond, refusals are reported together under "other addresses"
OTHER = "other addresses"


def limit_key(ip: str) -> str:
    """What the rate is counted on: the address, or its /64 for IPv6 (one subscriber's usual allocation)."""
    if ":" in ip:
        return ipaddress.ip_network(f"{ip}/64", strict=False).network_address.compressed + "/64"
    return ip or "unknown"


def refused(error: ApiError, ip: str, now: datetime) -> ApiError:
    """Count the refusal ``error`` of a call from ``ip``; return what to answer: ``error``, or 429 once the
    address is over the rate. Changes: the shared counter of the address; the process's tally (audit, log)."""
    usage = _count(ip)
    answer = error
    if usage is not None and usage["should_limit"]:
        wait = max(1, usage["time_left"])
        answer = ApiError(
            429,
            "rate_limited",
            f"too many refused calls from this address; retry in {wait} s",
            {"Retry-After": str(wait)},
        )
    if tally.add(ip, answer.code, error.contract, now):
        contract = f" for contract {error.contract[1]}" if error.contract else ""
        log.warning(
            "api refused %s%s from %s (refusals from this address are counted and reported every %d min)",
            error.code,
            contract,
            ip or "an unknown address",
            REPORT_EVERY.total_seconds() // 60,
        )
    tally.flush_if_due(now)
    return answer


def _count(ip: str) -> dict | None:
    """The address's refusals in the current period, this one included (django-ratelimit's usage); None if the
    cache cannot be used: the limit then fails open, and the cache's outage is logged once."""
    try:
        usage = get_usage(
            None,
            group=GROUP,
            key=lambda group, request: limit_key(ip),
            rate=settings.SMARTOA_API_FAILURE_RATE,
            increment=True,
        )
    except Exception as exc:  # noqa: BLE001 - any cache backend's failure (Redis down, a locked table): never a 500
        outage.cache.failed(exc)
        return None
    outage.cache.succeeded()
    return usage


@dataclass
class _Address:
    first: datetime
    last: datetime
    codes: Counter = field(default_factory=Counter)
    contracts: dict[str, int] = field(default_factory=dict)  # contract id -> pk


class RefusalTally:
    """Refusals per address since the start of the current period, in this process."""

    def __init__(self, every: timedelta = REPORT_EVERY):
        self.every = every
        self.lock = threading.Lock()
        self.since: datetime | None = None
        self.addresses: dict[str, _Address] = {}

    def add(self, ip: str, code: str, contract: tuple[int, str] | None, now: datetime) -> bool:
        """Count one refusal; True if it is the address's first in the period."""
        with self.lock:
            if self.since is None:
                self.since = now
            if ip not in self.addresses and len(self.addresses) >= MAX_ADDRESSES:
                ip = OTHER
            entry = self.addresses.get(ip)
            first = entry is None
            if first:
                entry = self.addresses[ip] = _Address(first=now, last=now)
            entry.last = now
            entry.codes[code] += 1
            if contract:
                entry.contracts[contract[1]] = contract[0]
        return first

    def flush_if_due(self, now: datetime) -> None:
        since = self.since
        if since is not None and (now - since >= self.every or now < since):
            self.flush()

    def flush(self) -> None:
        """Write one audit event and one log line per address counted, and start a new period."""
        with self.lock:
            addresses, self.addresses, self.since = self.addresses, {}, None
        if not addresses:
            return
        for ip, entry in addresses.items():
            count = entry.codes.total()
            if count > 1:
                log.warning(
                    "api refused %d calls from %s between %s and %s (%s)",
                    count,
                    ip or "an unknown address",
                    iso(entry.first),
                    iso(entry.last),
                    ", ".join(f"{code} ×{n}" for code, n in entry.codes.most_common()),
                )
        try:
            with transaction.atomic():
                for ip, entry in addresses.items():
                    pks = set(entry.contracts.values())
                    record(
                        "api.refused",
                        actor="api",
                        ip=None if ip in ("", OTHER) else ip,
                        contract=pks.pop() if len(pks) == 1 else None,
                        count=entry.codes.total(),
                        codes=dict(entry.codes),
                        contracts=sorted(entry.contracts),
                        first=iso(entry.first),
                        last=iso(entry.last),
                        **({"addresses": OTHER} if ip == OTHER else {}),
                    )
        except DatabaseError:
            log.warning("could not audit the refused API calls of %d addresses", len(addresses), exc_info=True)


tally = RefusalTally()


def flush_tally() -> None:
    """Report the refusals counted so far (worker exit, tests)."""
    tally.flush()


def discard_tally() -> None:
    """Forget the refusals counted so far without reporting them (tests roll their data back)."""
    with tally.lock:
        tally.addresses, tally.since = {}, None
