"""Acknowledgments (acquiescements) of a day's consigne. Callers own the transaction.

Rows are append-only. A day is acknowledged when an acknowledgment names the consigne's current (highest)
version: acknowledging again before HLAR records a new row (the "change"); a newer version voids earlier ones.
Locked from HLAR on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from smartoa.audit.services import record
from smartoa.consignes.deadlines import hlar_for
from smartoa.consignes.errors import DeadlinePassed, NotPublished, StaleVersion
from smartoa.consignes.models import Acknowledgment, Consigne, ConsigneVersion
from smartoa.contracts.models import Contract
from smartoa.core.clock import now
from smartoa.domain.calendar import iso
from smartoa.domain.deadlines import is_open


@dataclass(frozen=True)
class AcknowledgmentState:
    application_date: date
    acknowledged: bool
    version: int
    acknowledged_version: int | None
    acknowledged_at: datetime | None
    deadline: datetime
    locked: bool

    def as_json(self) -> dict:
        return {
            "application_date": self.application_date.isoformat(),
            "acknowledged": self.acknowledged,
            "version": self.version,
            "acknowledged_version": self.acknowledged_version,
            "acknowledged_at": iso(self.acknowledged_at) if self.acknowledged_at else None,
            "deadline": iso(self.deadline),
            "locked": self.locked,
        }


def _consigne(target, day: date | None, *, lock: bool) -> Consigne:
    """The consigne ``target`` (a Consigne, or a contract or its pk with ``day``), optionally row-locked."""
    query = Consigne.objects.select_for_update() if lock else Consigne.objects.all()
    if isinstance(target, Consigne):
        query = query.filter(pk=target.pk)
        label = str(target)
    else:
        contract_pk = target.pk if isinstance(target, Contract) else target
        query = query.filter(contract_id=contract_pk, delivery_day=day)
        label = f"{getattr(target, 'contract_id', 'this contract')} {day}"
    consigne = query.select_related("contract").first()
    if consigne is None:
        raise NotPublished(f"no consigne has been published for {label}")
    return consigne


def _current_version(consigne: Consigne) -> ConsigneVersion:
    return ConsigneVersion.objects.filter(consigne=consigne).order_by("-number").first()


def acknowledge(
    target,
    day: date | None = None,
    *,
    actor: str,
    channel: str,
    ip: str | None = None,
    token=None,  # an ApiToken or its pk
    user=None,
    version_number: int | None = None,
) -> Acknowledgment:
    """Acknowledge the current version of a day's consigne (``target``: a Consigne, or a contract + ``day``).

    Locks the consigne first, so a concurrent modification is either fully before or fully after.
    Raises NotPublished, DeadlinePassed (from HLAR on) or StaleVersion (``version_number`` not current).
    """
    consigne = _consigne(target, day, lock=True)
    moment = now()
    deadline = hlar_for(consigne.delivery_day)
    if not is_open(moment, deadline):
        raise DeadlinePassed(f"acknowledgments for {consigne.delivery_day} closed at HLAR {iso(deadline)}")
    current = _current_version(consigne)
    if version_number is not None and version_number != current.number:
        raise StaleVersion(
            f"version {version_number} is not the current version of {consigne.delivery_day} "
            f"(current: {current.number}); read the consigne again and acknowledge it"
        )
    ack = Acknowledgment.objects.create(
        consigne=consigne,
        version=current,
        acknowledged_at=moment,
        channel=channel,
        user=user,
        token_id=getattr(token, "pk", token),
        actor=actor,
        ip=ip or None,
    )
    record(
        "consigne.acknowledged",
        actor=actor,
        contract=consigne.contract,
        user=user,
        ip=ip or None,
        day=str(consigne.delivery_day),
        version=current.number,
        channel=channel,
    )
    return ack


def acknowledgment_state(contract, day: date) -> AcknowledgmentState:
    """Where the acknowledgment of ``contract``'s consigne of ``day`` stands (NotPublished if none)."""
    consigne = _consigne(contract, day, lock=False)
    current = _current_version(consigne)
    latest = (
        Acknowledgment.objects.filter(consigne=consigne)
        .select_related("version")
        .order_by("-acknowledged_at", "-id")
        .first()
    )
    deadline = hlar_for(day)
    return AcknowledgmentState(
        application_date=day,
        acknowledged=Acknowledgment.objects.filter(consigne=consigne, version=current).exists(),
        version=current.number,
        acknowledged_version=latest.version.number if latest else None,
        acknowledged_at=latest.acknowledged_at if latest else None,
        deadline=deadline,
        locked=not is_open(now(), deadline),
    )
