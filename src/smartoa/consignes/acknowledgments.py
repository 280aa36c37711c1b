"""Acknowledgments (acquiescements) of a day's consigne. Callers own the transaction.

Rows are append-only. A day is acknowledged when an acknowledgment names the consigne's current version:
acknowledging again before HLAR records a new row (the "change"); a newer version voids earlier ones.
Locked from HLAR on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext_noop as _

from smartoa.audit.services import record
from smartoa.consignes.deadlines import hlar_for
from smartoa.consignes.models import Acknowledgment, Consigne, ConsigneVersion
from smartoa.core.clock import now
from smartoa.core.metrics import ACKNOWLEDGMENTS, after_commit
from smartoa.core.sql import chunks
from smartoa.domain.acknowledgment import DayAcknowledgment, status_of
from smartoa.domain.calendar import iso
from smartoa.domain.deadlines import is_open
from smartoa.domain.errors import DeadlinePassed, NotFound, StaleVersion


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


def _consigne(contract, day: date, *, lock: bool) -> tuple[Consigne, ConsigneVersion]:
    """The consigne of ``contract`` (a Contract or its pk) for ``day`` and its current version, the consigne
    optionally row-locked; NotFound if none.

    The lock is taken on the consigne alone, and its current version read after it: a join locked together
    would be re-checked by PostgreSQL against the version a concurrent modification just replaced, and lose the
    row."""
    query = Consigne.objects.select_for_update() if lock else Consigne.objects.all()
    contract_pk = getattr(contract, "pk", contract)
    consigne = query.filter(contract_id=contract_pk, delivery_day=day).first()
    if consigne is None or consigne.current_version_id is None:
        raise NotFound(_("no consigne has been published for %(day)s"), day=day)
    return consigne, ConsigneVersion.objects.get(pk=consigne.current_version_id)


def acknowledge(
    contract,
    day: date,
    *,
    actor: str,
    channel: str,
    ip: str | None = None,
    token=None,  # an ApiToken or its pk
    user=None,
    version_number: int | None = None,
) -> Acknowledgment:
    """Acknowledge the current version of ``contract``'s consigne of ``day`` (a Contract or its pk).

    Locks the consigne first, so a concurrent modification is either fully before or fully after.
    Raises NotFound, DeadlinePassed (from HLAR on) or StaleVersion (``version_number`` not current).
    """
    consigne, current = _consigne(contract, day, lock=True)
    moment = now()
    deadline = hlar_for(day)
    if not is_open(moment, deadline):
        raise DeadlinePassed(_("acknowledgments for %(day)s closed at HLAR %(deadline)s"), day=day, deadline=deadline)
    if version_number is not None and version_number != current.number:
        raise StaleVersion(
            _(
                "version %(version)s is not the current version of %(day)s (current: %(current)s); "
                "read the consigne again and acknowledge it"
            ),
            version=version_number,
            day=day,
            current=current.number,
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
        contract=consigne.contract_id,
        user=user,
        ip=ip,
        day=day.isoformat(),
        version=current.number,
        channel=channel,
    )
    after_commit(ACKNOWLEDGMENTS, 1, channel)
    return ack


def acknowledgment_state(contract, day: date) -> AcknowledgmentState:
    """Where the acknowledgment of ``contract``'s consigne of ``day`` stands (NotFound if none)."""
    consigne, current = _consigne(contract, day, lock=False)
    latest = (
        Acknowledgment.objects.filter(consigne=consigne)
        .select_related("version")
        .order_by("-acknowledged_at", "-id")
        .first()
    )
    deadline = hlar_for(day)
    return AcknowledgmentState(
        application_date=day,
        acknowledged=latest is not None and Acknowledgment.objects.filter(version=current).exists(),
        version=current.number,
        acknowledged_version=latest.version.number if latest else None,
        acknowledged_at=latest.acknowledged_at if latest else None,
        deadline=deadline,
        locked=not is_open(now(), deadline),
    )


def day_states(contract_pks: Iterable[int], day: date) -> dict[int, DayAcknowledgment]:
    """Where the acknowledgment of ``day`` stands for each of the contracts (in a constant number of queries,
    whatever their number): not published, to do, done (version, when, by whom), voided by a modification,
    missed after HLAR."""
    pks = sorted(set(contract_pks))
    current: dict[int, int] = {}
    acknowledged: dict[int, set[int]] = defaultdict(set)
    latest: dict[int, tuple[int, datetime, str]] = {}
    for part in chunks(pks):
        consignes = Consigne.objects.filter(contract_id__in=part, delivery_day=day, current_version__isnull=False)
        current.update(consignes.values_list("contract_id", "current_version__number"))
        acks = (
            Acknowledgment.objects.filter(consigne__contract_id__in=part, consigne__delivery_day=day)
            .order_by("acknowledged_at", "pk")
            .values_list("consigne__contract_id", "version__number", "acknowledged_at", "actor")
        )
        for contract_pk, number, at, actor in acks:
            acknowledged[contract_pk].add(number)
            latest[contract_pk] = (number, at, actor)
    deadline, moment = hlar_for(day), now()
    return {
        pk: status_of(
            version=current.get(pk),
            acknowledged_versions=acknowledged[pk],
            latest=latest.get(pk),
            deadline=deadline,
            now=moment,
        )
        for pk in pks
    }
