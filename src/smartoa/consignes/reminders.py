"""Deadline notifications, driven by each day's HLAR (postponed or not): the reminder to the contracts that have
not acknowledged a day's current version, ``SMARTOA_REMINDER_MINUTES`` before its HLAR, and the operators'
warning at HLAR naming the contracts that missed it. Both are idempotent: run again (or twice at once), they send
nothing more. Callers own the transaction; the messages go through the outbox."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from django.conf import settings

from smartoa.consignes.deadlines import hlars_for
from smartoa.consignes.models import ReminderSent
from smartoa.consignes.queries import current_rows
from smartoa.contracts.models import Contract
from smartoa.core.sql import chunks
from smartoa.domain.calendar import local_day_of
from smartoa.notifications.events import (
    Reminder,
    acknowledgment_reminders,
    missing_acknowledgments,
    operators_to_warn,
)
from smartoa.notifications.outbox import accounts_of

WARNING_WINDOW = timedelta(hours=24)  # a warning not sent at HLAR (worker stopped) is still sent this long after


def candidate_days(moment: datetime) -> list[date]:
    """The delivery days whose HLAR (on D−1) may be near ``moment``."""
    today = local_day_of(moment)
    return [today + timedelta(days=n) for n in (-1, 0, 1, 2)]


def _unacknowledged(day: date) -> dict[int, int]:
    """Contract pk → current version number, for the published consignes of ``day`` whose current version has no
    acknowledgment."""
    return {pk: number for pk, _day, number, _p, done in current_rows(day, day, acknowledged=True) if not done}


def _labels(contract_pks) -> dict[int, tuple[str, str]]:
    found: dict[int, tuple[str, str]] = {}
    for part in chunks(sorted(set(contract_pks))):
        for contract in Contract.objects.filter(pk__in=part).only("contract_id", "name", "display_name"):
            found[contract.pk] = (contract.contract_id, contract.label)
    return found


def send_reminders(moment: datetime) -> Counter:
    """E-mail the accounts of every contract whose current version of a day is not acknowledged, when ``moment``
    is within SMARTOA_REMINDER_MINUTES before that day's HLAR; once per contract, day and version. Returns the
    counts (days, contracts, e-mails)."""
    counts: Counter = Counter()
    lead = timedelta(minutes=settings.SMARTOA_REMINDER_MINUTES)
    hlars = hlars_for(candidate_days(moment))
    for day in sorted(d for d, hlar in hlars.items() if hlar - lead <= moment < hlar):
        counts["days"] += 1
        missing = _unacknowledged(day)
        reminded = set(ReminderSent.objects.filter(delivery_day=day).values_list("contract_id", "number"))
        due = {pk: number for pk, number in missing.items() if (pk, number) not in reminded}
        with_accounts = accounts_of(due)
        due = {pk: number for pk, number in due.items() if with_accounts.get(pk)}
        if not due:
            continue
        labels = _labels(due)
        # The unique key makes a concurrent run of the same reminder fail here, rolling back its e-mails.
        ReminderSent.objects.bulk_create(
            [ReminderSent(contract_id=pk, delivery_day=day, number=n, sent_at=moment) for pk, n in due.items()],
            batch_size=1000,
        )
        reminders = [Reminder(pk, *labels[pk], number) for pk, number in sorted(due.items())]
        counts["contracts"] += len(reminders)
        counts["emails"] += acknowledgment_reminders(day, hlars[day], reminders)
    return counts


def warn_operators(moment: datetime) -> Counter:
    """At (or after) each day's HLAR, e-mail the operators the contracts that did not acknowledge that day's
    current version; once per day and operator. Returns the counts (days, missing contracts, e-mails)."""
    counts: Counter = Counter()
    hlars = hlars_for(candidate_days(moment))
    for day in sorted(d for d, hlar in hlars.items() if hlar <= moment < hlar + WARNING_WINDOW):
        recipients = operators_to_warn(day)
        if not recipients:
            continue  # already warned (or nobody to warn)
        missing = _unacknowledged(day)
        if not missing:
            continue
        counts["days"] += 1
        counts["missing"] += len(missing)
        labels = sorted(_labels(missing).values())
        counts["emails"] += missing_acknowledgments(day, hlars[day], labels, recipients)
    return counts
