"""Recording audit events."""

from smartoa.audit.models import AuditEvent
from smartoa.core.clock import now


def record(action: str, *, actor: str, contract=None, user=None, ip: str | None = None, **details) -> AuditEvent:
    """Add one audit event (inside the caller's transaction)."""
    return AuditEvent.objects.create(
        at=now(), action=action, actor=actor, contract=contract, user=user, ip=ip, details=details
    )
