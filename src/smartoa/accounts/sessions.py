"""The session engine (SESSION_ENGINE): Django's database sessions, stored as ``AccountSession`` rows that also
hold the account signed in, the address and the moment of the login. Django keeps a session's account in its
encoded data only; these columns let "Mon compte" list the account's open sessions and end the others with one
indexed query each. They are written from the session's data at every save, so they follow the session when its
key changes (each login step gives the session a new key).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

SIGNED_IN_AT = "smartoa_signed_in_at"  # ISO date-time of the login (password and code given)
SIGNED_IN_IP = "smartoa_signed_in_ip"  # the address it came from


def mark_signed_in(session, *, at: datetime, ip: str | None) -> None:
    """Note in ``session`` (a request's session) that its account has just signed in, when and from where."""
    session[SIGNED_IN_AT] = at.isoformat()
    session[SIGNED_IN_IP] = ip


def _user_id(data: dict) -> int | None:
    try:
        return int(data[SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None


def _moment(data: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(data[SIGNED_IN_AT])
    except (KeyError, TypeError, ValueError):
        return None


class SessionStore(DatabaseStore):
    @classmethod
    def get_model_class(cls):
        from smartoa.accounts.models import AccountSession

        return AccountSession

    def create_model_instance(self, data):
        """The row to save: Django's, with the account, the login's address and moment taken from ``data``."""
        return _with_account(super().create_model_instance(data), data)

    async def acreate_model_instance(self, data):
        return _with_account(await super().acreate_model_instance(data), data)


def _with_account(session, data: dict):
    session.user_id = _user_id(data)
    session.signed_in_at = _moment(data)
    session.ip = data.get(SIGNED_IN_IP) or None
    return session
