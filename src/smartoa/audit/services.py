"""Recording audit events: who did what, when, from where. Rows are only ever added.

An edge that acts for a person on a web page wraps its call in ``client_address(ip)``: every event the services
record inside it without an address of their own gets that one (the services called from the command line and
the web alike do not all take an address).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from smartoa.audit.models import AuditEvent
from smartoa.core.clock import now

_client_address: ContextVar[str | None] = ContextVar("smartoa_audit_client_address", default=None)


def _pk(value):
    return value if value is None or isinstance(value, int) else value.pk


@contextmanager
def client_address(ip: str | None) -> Iterator[None]:
    """Inside the block, events recorded without an address carry ``ip`` (the client's, for the web edges)."""
    token = _client_address.set(ip or None)
    try:
        yield
    finally:
        _client_address.reset(token)


def record(action: str, *, actor: str, contract=None, user=None, ip: str | None = None, **details) -> AuditEvent:
    """Add one audit event (inside the caller's transaction). ``contract`` and ``user`` are objects or pks; the
    address is ``ip``, else the one of the enclosing ``client_address`` block."""
    return AuditEvent.objects.create(
        at=now(),
        action=action,
        actor=actor[:200],
        contract_id=_pk(contract),
        user_id=_pk(user),
        ip=ip or _client_address.get(),
        details=details,
    )


def record_many(action: str, events: list[dict], *, actor: str) -> None:
    """Add one ``action`` event per dict of ``events`` (its ``contract``, ``user`` and ``ip`` as in ``record``, the
    rest its details) in one insert: the same rows as that many ``record`` calls, for imports of thousands."""
    moment, address = now(), _client_address.get()
    rows = []
    for event in events:
        details = dict(event)
        contract, user, ip = details.pop("contract", None), details.pop("user", None), details.pop("ip", None)
        rows.append(
            AuditEvent(
                at=moment,
                action=action,
                actor=actor[:200],
                contract_id=_pk(contract),
                user_id=_pk(user),
                ip=ip or address,
                details=details,
            )
        )
    AuditEvent.objects.bulk_create(rows, batch_size=1000)
