"""Who is asking: the client's address (behind the trusted proxies) and the acting account, for the audit log
and the login counters."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from smartoa.contracts.ips import client_ip as resolve_client_ip


def client_ip(request: HttpRequest, *args, **kwargs) -> str | None:
    """The caller's address: REMOTE_ADDR, or behind a trusted proxy the right-most untrusted X-Forwarded-For
    hop (also django-axes' address, AXES_CLIENT_IP_CALLABLE)."""
    address = resolve_client_ip(
        request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR"), settings.SMARTOA_TRUSTED_PROXIES
    )
    return address or None


def actor_of(request: HttpRequest) -> str:
    return getattr(request.user, "email", "") or "anonymous"
