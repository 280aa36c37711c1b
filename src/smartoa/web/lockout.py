"""The login lockout: django-axes' cache handler, with one failure limit per lockout parameter.

django-axes counts the failures of each lockout parameter (``AXES_LOCKOUT_PARAMETERS``: the account, the address)
under its own cache key, but compares them all with one limit. Colleagues behind one company address would then
lock each other out as soon as one of them mistyped a password a few times. This handler keeps axes' counting
(its cache keys, cool-off, allow-lists, backend refusal, middleware and lockout response) and only changes the
decision: the account is locked after ``SMARTOA_LOGIN_FAILURES`` failures, the address after
``SMARTOA_LOGIN_FAILURES_PER_ADDRESS`` failures across accounts. A successful login clears the account's failures,
not the address's: one right password does not excuse an address's failures on other accounts.

The account is the e-mail address as typed, trimmed and lower-cased (``login_username``): "Producteur@Example.FR"
and "producteur@example.fr" are one account, and an address that has no account is counted and locked exactly
like one that has (the answer never says which).
"""

from __future__ import annotations

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import (
    get_cache_timeout,
    get_client_cache_keys,
    get_client_username,
    get_credentials,
    get_lockout_parameters,
)
from axes.signals import user_locked_out
from django.conf import settings
from django.http import HttpRequest


def login_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The account a login attempt names (AXES_USERNAME_CALLABLE): the e-mail field, trimmed and lower-cased."""
    field = settings.AXES_USERNAME_FORM_FIELD
    value = credentials.get(field) if credentials else getattr(request, "POST", {}).get(field)
    return value.strip().lower() if isinstance(value, str) else None


def _address_only(parameter) -> bool:
    """Whether a lockout parameter (a name, or a list of names for a combination) is the address alone."""
    return ({parameter} if isinstance(parameter, str) else set(parameter)) == {"ip_address"}


def _limit(parameter) -> int:
    """The failures allowed for a lockout parameter: the address's limit, or the account's for the others."""
    if _address_only(parameter):
        return settings.SMARTOA_LOGIN_FAILURES_PER_ADDRESS
    return settings.SMARTOA_LOGIN_FAILURES


class PerParameterLimitsHandler(AxesCacheHandler):
    """axes' cache handler, each lockout parameter compared with its own limit (see the module docstring)."""

    def _counted(self, request, credentials) -> list[tuple[str, object]]:
        """(cache key, lockout parameter) of the attempt, in the order of AXES_LOCKOUT_PARAMETERS."""
        keys = get_client_cache_keys(request, credentials)
        return list(zip(keys, get_lockout_parameters(request, credentials), strict=True))

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        """True when one of the attempt's parameters has reached its own limit."""
        if not settings.AXES_LOCK_OUT_AT_FAILURE:
            return False
        counted = self._counted(request, credentials)
        counts = self.cache.get_many([key for key, _ in counted])
        return any(counts.get(key, 0) >= _limit(parameter) for key, parameter in counted)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        """Count a failed login under each parameter (a failure while locked out counts too, and extends the
        cool-off), then mark the request locked out if a parameter has reached its limit."""
        if request is None or self.is_whitelisted(request, credentials):
            return
        timeout = get_cache_timeout(request)
        for key, _ in self._counted(request, credentials):
            if not self.cache.add(key=key, value=1, timeout=timeout):
                self.cache.incr(key=key, delta=1)
                self.cache.touch(key=key, timeout=timeout)
        if self.is_locked(request, credentials):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        """A successful login clears the failures of the account (AXES_RESET_ON_SUCCESS), not of the address."""
        if not settings.AXES_RESET_ON_SUCCESS:
            return
        credentials = get_credentials(user.get_username())
        self.cache.delete_many(
            [key for key, parameter in self._counted(request, credentials) if not _address_only(parameter)]
        )
