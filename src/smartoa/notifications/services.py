"""Webhook services: set (a new secret, shown once), remove, send a test event, read a contract's webhook. Used
by the command line (``smartoa webhooks``) and the portal. Callers own the transaction; every change is
audited."""

from __future__ import annotations

from django.utils.translation import gettext_noop as _

from smartoa.audit.services import record
from smartoa.core.clock import now
from smartoa.domain.errors import Conflict
from smartoa.notifications import events
from smartoa.notifications.models import OutboxMessage, Webhook
from smartoa.notifications.outbox import Draft
from smartoa.notifications.webhooks import check_url, new_secret


def webhook_of(contract) -> Webhook | None:
    """The contract's active webhook, if it has one."""
    return Webhook.objects.filter(contract=contract, active=True).first()


def set_webhook(contract, url: str, *, actor: str, ip: str | None = None) -> str:
    """Send the contract's consignes to ``url`` from now on, signed with a new secret, which is returned (shown
    once; the previous secret stops being used at once). InvalidInput for a URL that cannot be used."""
    url = check_url(url)
    secret, moment = new_secret(), now()
    webhook = Webhook.objects.select_for_update().filter(contract=contract).first()
    previous = webhook.url if webhook is not None and webhook.active else None
    if webhook is None:
        Webhook.objects.create(contract=contract, url=url, secret=secret, created_at=moment, updated_at=moment)
    else:
        webhook.url, webhook.secret, webhook.active, webhook.updated_at = url, secret, True, moment
        webhook.save(update_fields=["url", "secret", "active", "updated_at"])
        # Calls still to deliver go to the new URL, signed with the new secret (the log says where they went).
        webhook.messages.filter(status=OutboxMessage.Status.PENDING).update(recipient=url, updated_at=moment)
    record("webhook.set", actor=actor, contract=contract, ip=ip, url=url, previous=previous)
    return secret


def remove_webhook(contract, *, actor: str, ip: str | None = None) -> bool:
    """Stop calling the contract's webhook (its deliveries still pending fail; the log stays); returns False if
    it had none."""
    webhook = Webhook.objects.select_for_update().filter(contract=contract, active=True).first()
    if webhook is None:
        return False
    webhook.active, webhook.secret, webhook.updated_at = False, "", now()
    webhook.save(update_fields=["active", "secret", "updated_at"])
    record("webhook.removed", actor=actor, contract=contract, ip=ip, url=webhook.url)
    return True


def send_test(contract, *, actor: str, ip: str | None = None) -> Draft:
    """Queue a signed ``test`` call to the contract's webhook; Conflict if it has none."""
    webhook = webhook_of(contract)
    if webhook is None:
        raise Conflict(_("%(contract_id)s has no webhook to test"), contract_id=contract.contract_id)
    message = events.webhook_test(webhook)
    record("webhook.test", actor=actor, contract=contract, ip=ip, delivery=str(message.delivery_id))
    return message
