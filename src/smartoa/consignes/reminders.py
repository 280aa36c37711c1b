"""Deadline notifications, driven by each day's HLAR (postponed or not): the reminder to the recipients of the
contracts that have not acknowledged a day's current version, each at the time before HLAR it chose
(``notifications/preferences.py``; the operator's ``SMARTOA_REMINDER_MINUTES`` by default), and the operators'
warning at HLAR naming the contracts that missed it. Both are idempotent: run again (or twice at once), they send
nothing more. Callers own the transaction; the messages go through the outbox."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

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
    per_recipient,
)
from smartoa.notifications.preferences import record_reminders, reminded, reminder_recipients, widest_lead

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


def _reminded_before(day: date) -> set[tuple[int, int]]:
    """(contract pk, version number) reminded for ``day`` to all of its accounts at once, before reminders were
    noted per recipient (``consignes.ReminderSent``, no longer written): not reminded again after an upgrade."""
    return set(ReminderSent.objects.filter(delivery_day=day).values_list("contract_id", "number"))


def send_reminders(moment: datetime) -> Counter:
    """E-mail the recipients of every contract whose current version of a day is not acknowledged, each when
    ``moment`` is within its chosen time before that day's HLAR; once per recipient, contract, day and version.
    Returns the counts (days in the widest reminder window, contracts reminded, e-mails)."""
    counts: Counter = Counter()
    widest = timedelta(minutes=widest_lead())
    hlars = hlars_for(candidate_days(moment))
    for day in sorted(d for d, hlar in hlars.items() if hlar - widest <= moment < hlar):
        counts["days"] += 1
        missing = _unacknowledged(day)
        if not missing:
            continue
        hlar = hlars[day]
        wanted = reminder_recipients(missing)
        done, done_before = reminded(day), _reminded_before(day)
        due = per_recipient(
            (recipient, pk)
            for pk, number in missing.items()
            if (pk, number) not in done_before
            for recipient, minutes in wanted.get(pk, ())
            if hlar - timedelta(minutes=minutes) <= moment and (recipient.email, pk, number) not in done
        )
        if not due:
            continue
        record_reminders(day, [(r.email, pk, missing[pk]) for r, pks in due.items() for pk in pks], moment)
        contracts = {pk for pks in due.values() for pk in pks}
        labels = _labels(contracts)
        reminders = {
            recipient: [Reminder(pk, *labels[pk], missing[pk]) for pk in sorted(pks)] for recipient, pks in due.items()
        }
        counts["contracts"] += len(contracts)
        counts["emails"] += acknowledgment_reminders(day, hlar, reminders)
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
