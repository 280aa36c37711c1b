"""IP address rules: individual public addresses only, and the caller's address behind trusted proxies."""

import ipaddress


class InvalidAddress(ValueError):
    pass


def normalize_ip(text: str) -> str:
    """Canonical text of one IPv4/IPv6 address; InvalidAddress for ranges, names or garbage."""
    raw = (text or "").strip()
    if "/" in raw:
        raise InvalidAddress(f"{raw!r}: ranges are not allowed, declare each address individually")
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        raise InvalidAddress(f"{raw!r} is not an IPv4 or IPv6 address (host names are not allowed)") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.compressed


def client_ip(remote_addr: str, forwarded_for: str | None, trusted_proxies: frozenset[str]) -> str:
    """The caller's address: REMOTE_ADDR, or, only when it is a trusted proxy, the right-most untrusted
    address of X-Forwarded-For. A forged header from an untrusted client is ignored."""
    try:
        remote = normalize_ip(remote_addr)
    except InvalidAddress:
        return ""
    if remote not in trusted_proxies or not forwarded_for:
        return remote
    for hop in reversed(forwarded_for.split(",")):
        try:
            address = normalize_ip(hop)
        except InvalidAddress:
            return remote  # garbage in the chain: believe only what we saw ourselves
        if address not in trusted_proxies:
            return address
    return remote
