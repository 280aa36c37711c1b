"""Reading the audit log: the events matching an operator's filters (contract, account, action, period), newest
first, the action names recorded so far, and an account's latest events of some actions (its logins)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet

from smartoa.audit.models import AuditEvent
from smartoa.domain.calendar import local_midnight

FAMILY = ".*"  # "token.*": every action of the family "token"


@dataclass(frozen=True)
class EventFilter:
    """What to show: every field is optional. ``account`` is an e-mail, matched (case-insensitively) against the
    account concerned and the actor; ``action`` is an action or a family (``token.*``); ``start``/``end`` are
    local days, both included."""

    contract_id: str = ""
    account: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None


def events(wanted: EventFilter) -> QuerySet[AuditEvent]:
    """The matching events, newest first, with their contract and account (a lazy query: slice it)."""
    query = AuditEvent.objects.select_related("contract", "user").order_by("-at", "-id")
    if wanted.contract_id:
        query = query.filter(contract__contract_id=wanted.contract_id.strip().upper())
    if wanted.account:
        email = wanted.account.strip()
        query = query.filter(Q(user__email__iexact=email) | Q(actor__iexact=email))
    if wanted.action.endswith(FAMILY):
        query = query.filter(action__startswith=wanted.action.removesuffix("*"))
    elif wanted.action:
        query = query.filter(action=wanted.action)
    if wanted.start is not None:
        query = query.filter(at__gte=local_midnight(wanted.start))
    if wanted.end is not None:
        query = query.filter(at__lt=local_midnight(date.fromordinal(wanted.end.toordinal() + 1)))
    return query


def action_names() -> list[str]:
    """Every action recorded so far, sorted (one query on the action index)."""
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


def families(actions: list[str]) -> list[str]:
    """The families of ``actions`` ("token" for "token.issued"), sorted."""
    return sorted({action.split(".", 1)[0] for action in actions if "." in action})


@dataclass(frozen=True)
class AccountEvent:
    at: datetime
    action: str
    ip: str | None


def account_events(user_id: int, actions: Iterable[str], *, limit: int = 10) -> list[AccountEvent]:
    """The latest events of ``actions`` concerning the account ``user_id`` (e.g. its logins), newest first: one
    query on the account's events."""
    rows = (
        AuditEvent.objects.filter(user_id=user_id, action__in=list(actions))
        .order_by("-at", "-id")
        .values_list("at", "action", "ip")[:limit]
    )
    return [AccountEvent(at, action, ip) for at, action, ip in rows]


def role_lost_at(user_id: int, contract_id: str) -> datetime | None:
    """When the account last lost its role on the contract ``contract_id`` (an operator's change, a manager
    replaced), or None if it never held one."""
    return (
        AuditEvent.objects.filter(action="role.revoked", user_id=user_id, contract__contract_id=contract_id)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
