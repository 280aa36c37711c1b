"""The outbox (one row per message to send: an e-mail or a webhook call) and each contract's webhook."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MAX_URL = 500  # characters of a webhook URL


class Webhook(models.Model):
    """The URL a contract's consignes are POSTed to, signed with ``secret`` (HMAC-SHA256). Removing it deactivates
    the row (its deliveries stay in the log); setting it again gives a new secret."""

    contract = models.OneToOneField("contracts.Contract", on_delete=models.CASCADE, related_name="webhook")
    url = models.CharField(_("URL"), max_length=MAX_URL)
    secret = models.CharField(_("secret"), max_length=64)
    active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"))
    updated_at = models.DateTimeField(_("modifié le"))

    class Meta:
        verbose_name = _("webhook")

    def __str__(self):
        return f"{self.contract_id} {self.url}"


class OutboxMessage(models.Model):
    """One message to deliver, written in the same transaction as the change that caused it, delivered by the
    worker (``notifications/delivery.py``): an e-mail to ``recipient`` (its ``template``'s subject and body,
    rendered by the worker in ``language`` from ``context``, the data of the change as it was written) or a webhook
    call (``body`` is the JSON posted to the contract's webhook). ``delivery_id`` is the webhook's
    ``X-SmartOA-Delivery``. A worker claims a message until ``lease_until``; a failed try is retried at
    ``next_attempt_at`` until ``SMARTOA_OUTBOX_MAX_ATTEMPTS``. The rows of a contract's webhook are its delivery
    log."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("e-mail")
        WEBHOOK = "webhook", _("webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("en attente")
        DELIVERED = "delivered", _("livré")
        FAILED = "failed", _("échec")

    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    event = models.CharField(_("événement"), max_length=40)
    recipient = models.CharField(_("destinataire"), max_length=MAX_URL)
    contract = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    template = models.CharField(_("modèle"), max_length=40, blank=True)  # notifications/email/<template>/
    language = models.CharField(_("langue"), max_length=5, blank=True)
    context = models.JSONField(_("données"), default=dict, blank=True)
    body = models.TextField(_("contenu"), blank=True)
    # Context and body erased once delivered or failed (a provisional password must not stay in the database).
    sensitive = models.BooleanField(default=False)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    delivery_id = models.UUIDField(_("identifiant de livraison"), default=uuid.uuid4, unique=True)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"))
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_error = models.CharField(_("dernière erreur"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("créé le"))
    updated_at = models.DateTimeField(_("modifié le"))
    delivered_at = models.DateTimeField(_("livré le"), null=True, blank=True)

    class Meta:
        verbose_name = _("message sortant")
        verbose_name_plural = _("messages sortants")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The worker's claim: pending messages by due time.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_due_idx"),
            # A contract's delivery log.
            models.Index(fields=["contract", "kind", "-created_at"], name="outbox_contract_log_idx"),
            models.Index(fields=["status", "-created_at"], name="outbox_status_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.event} → {self.recipient} ({self.status})"
