"""IP address rules: the allow-list holds individual public (global unicast) addresses only; the caller's address
is read behind trusted proxies."""

from __future__ import annotations

import ipaddress

from smartoa.domain.errors import InvalidInput

MAX_TEXT = 64  # longer than any written IPv6 address: refused before parsing


class InvalidAddress(InvalidInput):
    """An address that cannot be declared; ``code`` says which rule it breaks."""


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """One IPv4 or IPv6 address as written (no range, no name, no zone id); InvalidAddress otherwise. An
    IPv4-mapped IPv6 address is its IPv4 address."""
    raw = (text or "").strip() if isinstance(text, str) else ""
    if not raw:
        raise InvalidAddress("no IP address given")
    if len(raw) > MAX_TEXT:
        raise InvalidAddress("%(address)r… is not an IP address", address=raw[:MAX_TEXT])
    if "/" in raw:
        raise InvalidAddress("%(address)s: ranges are not allowed, declare each address individually", address=raw)
    if "%" in raw:
        raise InvalidAddress("%(address)s: a zone id (%%…) is not allowed, declare the address alone", address=raw)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        raise InvalidAddress(
            "%(address)r is not an IPv4 or IPv6 address (host names are not allowed)", address=raw
        ) from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def normalize_ip(text: str) -> str:
    """Canonical text of one public address a machine can call from: global unicast only. Refused with a clear
    message: ranges, names, zone ids, and unspecified, loopback, private, shared, link-local, multicast,
    broadcast, documentation or otherwise reserved addresses."""
    address = parse_ip(text)
    if address.is_unspecified:
        reason = "the unspecified address"
    elif address.is_loopback:
        reason = "a loopback address"
    elif address.is_multicast:
        reason = "a multicast address"
    elif address.is_link_local:
        reason = "a link-local address"
    elif address.is_private:
        reason = "a private or reserved address"
    elif not address.is_global:
        reason = "not a public address"
    else:
        return address.compressed
    raise InvalidAddress(
        "%(address)s is %(reason)s: only public fixed addresses can be declared", address=str(address), reason=reason
    )


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
