"""HLAR and change deadlines of delivery days, with the per-day overrides stored in HlarOverride."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils.translation import gettext_noop

from smartoa.audit.services import record
from smartoa.consignes.models import HlarOverride
from smartoa.consignes.rules import Force, audit_of
from smartoa.contracts.models import Contract
from smartoa.core.clock import now
from smartoa.domain import deadlines
from smartoa.domain.calendar import iso
from smartoa.domain.errors import Conflict, DeadlinePassed, InvalidInput, UserError
from smartoa.notifications.events import HlarChange, hlar_changed


def hlar_for(day: date) -> datetime:
    """HLAR of delivery day ``day`` (the override if set, else D−1 at SMARTOA_HLAR_DEFAULT)."""
    override = HlarOverride.objects.filter(delivery_day=day).values_list("hlar_at", flat=True).first()
    return deadlines.hlar(day, settings.SMARTOA_HLAR_DEFAULT, override)


def cutoff_for_hlar(hlar_at: datetime) -> datetime:
    """The incident-change deadline that goes with an HLAR."""
    return deadlines.change_cutoff(hlar_at, settings.SMARTOA_MODIFICATION_CUTOFF_MINUTES)


def hlars_for(days) -> dict[date, datetime]:
    """HLAR of each of ``days`` (one query)."""
    overrides = dict(HlarOverride.objects.filter(delivery_day__in=set(days)).values_list("delivery_day", "hlar_at"))
    return {day: deadlines.hlar(day, settings.SMARTOA_HLAR_DEFAULT, overrides.get(day)) for day in set(days)}


def parse_hhmm(text: str) -> time:
    """A local time written HH:MM; InvalidInput otherwise."""
    try:
        if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
            raise ValueError
        return time.fromisoformat(text)
    except ValueError:
        raise InvalidInput(gettext_noop("%(text)r is not a time HH:MM"), text=str(text)[:20]) from None


class ConfirmationRequired(Conflict):
    code = "confirmation_required"


class NoticeTooShort(Conflict):
    code = "notice_too_short"


def set_hlar(
    day: date, at: time, *, actor: str, confirm_earlier: bool = False, force: Force | None = None
) -> tuple[datetime, datetime]:
    """Set the HLAR of ``day`` to local ``at`` on D−1; returns (previous HLAR, new HLAR).

    Postponing is free. Moving it earlier needs ``confirm_earlier`` (else ConfirmationRequired, saying what would
    close and when) and is never allowed to a time less than the change cutoff (30 min) from now
    (NoticeTooShort). Unless ``force``d with a reason, refused when the day's HLAR already passed or the new one is
    already past (either would reopen or lock the day behind the producers' backs). The producers of the
    contracts with a consigne that day are told when the day is still open (e-mail, webhook ``hlar.changed``).
    """
    new = deadlines.local_time_on(day - timedelta(days=1), at)
    previous = hlar_for(day)
    moment = now()
    minutes = settings.SMARTOA_MODIFICATION_CUTOFF_MINUTES
    earlier = new < previous
    if earlier:
        earliest = moment + timedelta(minutes=minutes)
        if new < earliest:
            raise NoticeTooShort(
                gettext_noop(
                    "the HLAR of %(day)s cannot be moved to %(hlar)s: it must leave at least %(minutes)s min "
                    "for changes from now; the earliest possible is %(earliest)s"
                ),
                day=day,
                hlar=new,
                minutes=minutes,
                earliest=earliest,
            )
        if not confirm_earlier:
            raise ConfirmationRequired(
                gettext_noop(
                    "moving the HLAR of %(day)s earlier, from %(previous)s to %(hlar)s, closes changes at %(cutoff)s "
                    "and acknowledgments at %(hlar)s: confirm to move it earlier"
                ),
                day=day,
                previous=previous,
                hlar=new,
                cutoff=cutoff_for_hlar(new),
            )
    problems: list[UserError] = []
    if not deadlines.is_open(moment, previous):
        problems.append(
            DeadlinePassed(
                gettext_noop(
                    "the HLAR of %(day)s already passed at %(hlar)s; acknowledgments are locked "
                    "(force it to change it anyway)"
                ),
                day=day,
                hlar=previous,
            )
        )
    elif not deadlines.is_open(moment, new):
        problems.append(Conflict(gettext_noop("%(hlar)s is already past (force it to set it anyway)"), hlar=new))
    if problems and force is None:
        raise problems[0]
    audit = audit_of(force, problems)
    HlarOverride.objects.update_or_create(
        delivery_day=day, defaults={"hlar_at": new, "set_at": moment, "set_by": actor}
    )
    record(
        "hlar.set", actor=actor, day=day.isoformat(), hlar=iso(new), previous=iso(previous), earlier=earlier, **audit
    )
    if new != previous and deadlines.is_open(moment, new):
        change = HlarChange(day, previous, new, cutoff_for_hlar(new), earlier)
        hlar_changed(change, contracts_with_consigne(day))
    return previous, new


def contracts_with_consigne(day: date) -> list[tuple[int, str, str]]:
    """(pk, id, label) of the contracts that have a consigne for ``day``, by id."""
    rows = (
        Contract.objects.filter(consignes__delivery_day=day)
        .order_by("contract_id")
        .values_list("pk", "contract_id", "name", "display_name")
    )
    return [(pk, contract_id, display or name) for pk, contract_id, name, display in rows]
