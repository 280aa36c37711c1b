"""What a webhook is made of: its URL rules, its secret and the signature of each call (HMAC-SHA256 of
``"<timestamp>.<body>"``, sent as ``X-SmartOA-Signature: sha256=<hex>``)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_noop as _

from smartoa.domain.errors import InvalidInput
from smartoa.notifications.models import MAX_URL

SIGNATURE_HEADER = "X-SmartOA-Signature"


def new_secret() -> str:
    """A new signing secret (shown once to the contract's users)."""
    return "whsec_" + secrets.token_hex(24)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-SmartOA-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def check_url(url: object) -> str:
    """``url`` stripped, or InvalidInput saying why it cannot receive webhooks: HTTPS only (plain HTTP in the
    test environment only), no credentials, no fragment, at most MAX_URL characters; in production no local or
    private address either."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput(_("a webhook URL is required"))
    text = url.strip()
    if len(text) > MAX_URL:
        raise InvalidInput(
            _("the URL is too long (%(length)s characters; at most %(limit)s)"), length=len(text), limit=MAX_URL
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidInput(_("the URL must not contain spaces or control characters"))
    parts = urlsplit(text)
    allowed = {"https"} if settings.PRODUCTION else {"https", "http"}
    if parts.scheme.lower() not in allowed:
        if settings.PRODUCTION:
            raise InvalidInput(_("only https:// URLs are accepted"))
        raise InvalidInput(_("only https:// URLs are accepted (http:// in the test environment only)"))
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            _("the URL must not contain a user name or password: check the X-SmartOA-Signature header instead")
        )
    if not parts.hostname:
        raise InvalidInput(_("the URL has no host name"))
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise InvalidInput(_("the URL's port is not a number between 0 and 65535")) from None
    if parts.fragment:
        raise InvalidInput(_("the URL must not contain a fragment (#…)"))
    if settings.PRODUCTION:
        _check_public_host(parts.hostname)
    return text


def _check_public_host(host: str) -> None:
    """In production, the worker must not be pointed at the platform's own network."""
    if host.lower() == "localhost" or host.lower().endswith((".localhost", ".local", ".internal")):
        raise InvalidInput(_("the URL must name a public server"))
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a host name
    if not address.is_global:
        raise InvalidInput(_("the URL must name a public server"))
