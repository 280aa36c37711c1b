"""The outbox's jobs: delivery every minute and right after each change that writes messages, and the purge of
old delivered and failed messages, old event records and the notes of old reminders."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy

from smartoa.core.clock import now
from smartoa.domain.calendar import local_day_of
from smartoa.jobs.engine import scheduled, stopping, task
from smartoa.jobs.runs import recorded
from smartoa.notifications.delivery import deliver_due
from smartoa.notifications.outbox import DELIVER_SOON, purge, purge_events
from smartoa.notifications.preferences import purge_reminders

DELIVER = "notifications.deliver"


@scheduled(DELIVER, label=gettext_lazy("Envoi des e-mails et webhooks"), every=timedelta(minutes=1))
def deliver(counts: dict) -> None:
    """Deliver the due messages (new ones, and retries whose time has come)."""
    counts.update(deliver_due(should_stop=stopping.is_set))


@task(name=DELIVER_SOON)
def deliver_soon(delivery_ids: list[str]) -> None:
    """Queued after the commit of a change that wrote these messages to the outbox: deliver them at once rather
    than at the next periodic run."""
    with recorded(DELIVER) as counts:
        counts.update(deliver_due(among=delivery_ids, should_stop=stopping.is_set))


@scheduled("notifications.purge", label=gettext_lazy("Purge du journal des envois"), every=timedelta(days=1))
def purge_old(counts: dict) -> None:
    """Delete delivered and failed messages older than SMARTOA_OUTBOX_KEEP_DAYS, the event records as old (the
    stream's replay), and the notes of the reminders sent for delivery days as old."""
    before = now() - timedelta(days=settings.SMARTOA_OUTBOX_KEEP_DAYS)
    counts["deleted"] = purge(before)
    counts["events_deleted"] = purge_events(before)
    counts["reminders_forgotten"] = purge_reminders(local_day_of(before))
