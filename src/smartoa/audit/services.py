"""Recording audit events: who did what, when, from where. Rows are only ever added."""

from __future__ import annotations

from smartoa.audit.models import AuditEvent
from smartoa.core.clock import now


def _pk(value):
    return value if value is None or isinstance(value, int) else value.pk


def record(action: str, *, actor: str, contract=None, user=None, ip: str | None = None, **details) -> AuditEvent:
    """Add one audit event (inside the caller's transaction). ``contract`` and ``user`` are objects or pks."""
    return AuditEvent.objects.create(
        at=now(),
        action=action,
        actor=actor[:200],
        contract_id=_pk(contract),
        user_id=_pk(user),
        ip=ip or None,
        details=details,
    )
