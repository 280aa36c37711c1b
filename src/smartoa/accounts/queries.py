"""Reading accounts: the open sessions of an account (for "Mon compte")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from smartoa.accounts.models import AccountSession, User


@dataclass(frozen=True)
class OpenSession:
    """One signed-in session of an account, as its owner sees it."""

    signed_in_at: datetime
    ip: str | None
    current: bool  # the session of the request asking


@dataclass(frozen=True)
class AccountSessions:
    signed_in: list[OpenSession]  # the current session first, then the latest login first
    others: int  # unexpired sessions besides the current one, signed in or still between password and code


def account_sessions(user: User, *, current_key: str | None) -> AccountSessions:
    """The account's unexpired sessions (one indexed query): those signed in, and how many besides the current."""
    rows = (
        AccountSession.objects.filter(user=user, expire_date__gt=timezone.now())
        .order_by("-signed_in_at", "session_key")
        .values_list("session_key", "signed_in_at", "ip")
    )
    signed_in, others = [], 0
    for key, at, ip in rows:
        others += key != current_key
        if at is not None:
            signed_in.append(OpenSession(signed_in_at=at, ip=ip, current=key == current_key))
    signed_in.sort(key=lambda session: not session.current)  # this one first (a stable sort keeps the rest)
    return AccountSessions(signed_in, others)
