"""IP address rules: the allow-list holds individual public (global unicast) addresses only; the caller's address
is read behind trusted proxies."""

from __future__ import annotations

import ipaddress

from django.utils.translation import gettext_noop as _

from smartoa.domain.errors import InvalidInput

MAX_TEXT = 64  # longer than any written IPv6 address: refused before parsing


class InvalidAddress(InvalidInput):
    """An address that cannot be declared; ``code`` says which rule it breaks."""


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """One IPv4 or IPv6 address as written (no range, no name, no zone id); InvalidAddress otherwise. An
    IPv4-mapped IPv6 address is its IPv4 address."""
    raw = (text or "").strip() if isinstance(text, str) else ""
    if not raw:
        raise InvalidAddress(_("no IP address given"))
    if len(raw) > MAX_TEXT:
        raise InvalidAddress(_("%(address)s… is not an IP address"), address=raw[:MAX_TEXT])
    if "/" in raw:
        raise InvalidAddress(_("%(address)s: ranges are not allowed, declare each address individually"), address=raw)
    if "%" in raw:
        raise InvalidAddress(_("%(address)s: a zone id is not allowed, declare the address alone"), address=raw)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        raise InvalidAddress(
            _("%(address)s is not an IPv4 or IPv6 address (host names are not allowed)"), address=raw
        ) from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


# Why an address cannot be declared, in the order checked (a loopback address is also "not global").
REFUSALS = (
    ("is_unspecified", _("%(address)s is the unspecified address: only public fixed addresses can be declared")),
    ("is_loopback", _("%(address)s is a loopback address: only public fixed addresses can be declared")),
    ("is_multicast", _("%(address)s is a multicast address: only public fixed addresses can be declared")),
    ("is_link_local", _("%(address)s is a link-local address: only public fixed addresses can be declared")),
    ("is_private", _("%(address)s is a private or reserved address: only public fixed addresses can be declared")),
)
NOT_GLOBAL = _("%(address)s is not a public address: only public fixed addresses can be declared")


def normalize_ip(text: str) -> str:
    """Canonical text of one public address a machine can call from: global unicast only. Refused with a clear
    message: ranges, names, zone ids, and unspecified, loopback, private, shared, link-local, multicast,
    broadcast, documentation or otherwise reserved addresses."""
    address = parse_ip(text)
    for test, message in REFUSALS:
        if getattr(address, test):
            raise InvalidAddress(message, address=str(address))
    if not address.is_global:
        raise InvalidAddress(NOT_GLOBAL, address=str(address))
    return address.compressed


def client_ip(remote_addr: str, forwarded_for: str | None, trusted_proxies: frozenset[str]) -> str:
    """The caller's address: REMOTE_ADDR, or, only when it is a trusted proxy, the right-most untrusted
    address of X-Forwarded-For. A forged header from an untrusted client is ignored."""
    try:
        remote = parse_ip(remote_addr).compressed
    except InvalidAddress:
        return ""
    if remote not in trusted_proxies or not forwarded_for:
        return remote
    for hop in reversed(forwarded_for.split(",")):
        try:
            address = parse_ip(hop).compressed
        except InvalidAddress:
            return remote  # garbage in the chain: believe only what we saw ourselves
        if address not in trusted_proxies:
            return address
    return remote
