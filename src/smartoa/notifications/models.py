"""The outbox (one row per message to send: an e-mail or a webhook call) and each contract's webhook."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MAX_URL = 500  # characters of a webhook URL


class Webhook(models.Model):
    """The URL a contract's consignes are POSTed to, signed with ``secret`` (HMAC-SHA256). Removing it deactivates
    the row (its deliveries stay in the log); setting it again gives a new secret."""

    contract = models.OneToOneField(
        "contracts.Contract", on_delete=models.CASCADE, related_name="webhook", verbose_name=_("contrat")
    )
    url = models.CharField(_("URL"), max_length=MAX_URL)
    secret = models.CharField(_("secret"), max_length=64)
    active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"))
    updated_at = models.DateTimeField(_("modifié le"))

    class Meta:
        verbose_name = _("webhook")

    def __str__(self):
        return f"{self.contract_id} {self.url}"


class Event(models.Model):
    """One change told to a contract, written in the same transaction as the change (``notifications/eventlog.py``):
    the durable record that feeds the contract's e-mails and webhook calls (``OutboxMessage.event_record``) and its
    event stream (``smartoa stream``, ``GET /api/v1/events``), whose SSE ``id`` is this row's id. ``day`` and
    ``version`` are null when they do not apply (``token.expiring``, ``access.changed``); ``data`` holds the extra
    fields of the event (``hlar``, ``previous_hlar``, ``token_prefix``…). ``access.changed`` is internal: it wakes
    the stream process to check the contract's open streams again (a token revoked, an address removed) and is
    never sent. ``key`` makes a periodic event idempotent. Kept as long as the outbox keeps its messages."""

    class Type(models.TextChoices):
        CONSIGNE_PUBLISHED = "consigne.published", "consigne.published"
        CONSIGNE_MODIFIED = "consigne.modified", "consigne.modified"
        HLAR_CHANGED = "hlar.changed", "hlar.changed"
        TOKEN_EXPIRING = "token.expiring", "token.expiring"
        ACCESS_CHANGED = "access.changed", "access.changed"

    id = models.BigAutoField(primary_key=True)
    type = models.CharField(_("type"), max_length=40, choices=Type.choices)
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="+", verbose_name=_("contrat")
    )
    day = models.DateField(_("jour"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"))
    data = models.JSONField(_("données"), default=dict, blank=True)
    key = models.CharField(max_length=200, null=True, blank=True, unique=True, verbose_name=_("clé de dédoublonnage"))

    class Meta:
        verbose_name = _("événement")
        verbose_name_plural = _("événements")
        indexes = [
            # A stream's replay: the contract's events after an id.
            models.Index(fields=["contract", "id"], name="event_contract_idx"),
            models.Index(fields=["created_at"], name="event_created_idx"),
        ]

    def __str__(self):
        return f"{self.pk} {self.type} {self.contract_id} {self.day or ''}"


class OutboxMessage(models.Model):
    """One message to deliver, written in the same transaction as the change that caused it, delivered by the
        worker (``notifications/delivery.py``): an e-mail to ``recipient`` (its ``template``'s subject and body,
        rendered by the worker in ``language`` from ``context``, the data of the change as it was written) or a webhook
        call (``body`` is the JSON posted to the contract's webhook). ``delivery_id`` is the webhook's
        ``X-SmartOA-Delivery``; ``event`` the kind of event (its name), ``event_record`` the
    change's durable record. A worker claims a message until ``lease_until``; a failed try is retried at
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
        "contracts.Contract",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("contrat"),
    )
    webhook = models.ForeignKey(
        Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages", verbose_name=_("webhook")
    )
    # The event record this message tells (its webhook's X-SmartOA-Event-ID); null for messages that tell no
    # contract event (account e-mails, reminders) and for an e-mail grouping several contracts' events. The purge
    # clears it before deleting old events (``outbox.purge``).
    event_record = models.ForeignKey(
        Event,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="messages",
        verbose_name=_("événement enregistré"),
    )
    template = models.CharField(_("modèle"), max_length=40, blank=True)  # notifications/email/<template>/
    language = models.CharField(_("langue"), max_length=5, blank=True)
    context = models.JSONField(_("données"), default=dict, blank=True)
    body = models.TextField(_("contenu"), blank=True)
    # Context and body erased once delivered or failed (a provisional password must not stay in the database).
    sensitive = models.BooleanField(default=False, verbose_name=_("sensible"))
    dedupe_key = models.CharField(
        max_length=200, null=True, blank=True, unique=True, verbose_name=_("clé de dédoublonnage")
    )
    delivery_id = models.UUIDField(_("identifiant de livraison"), default=uuid.uuid4, unique=True)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"))
    lease_until = models.DateTimeField(null=True, blank=True, verbose_name=_("réservé jusqu'au"))
    lease_token = models.CharField(max_length=32, blank=True, verbose_name=_("jeton de réservation"))
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
            # The order per contract and recipient: is an earlier message of the same destination still pending?
            models.Index(
                fields=["kind", "contract", "recipient", "id"], condition=Q(status="pending"), name="outbox_order_idx"
            ),
            # A contract's delivery log.
            models.Index(fields=["contract", "kind", "-created_at"], name="outbox_contract_log_idx"),
            models.Index(fields=["status", "-created_at"], name="outbox_status_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.event} → {self.recipient} ({self.status})"


# --- notification preferences ----------------------------------------------------------------------------------


class AccountPreference(models.Model):
    """One account's e-mail choices, for all its contracts (no row: the operator's defaults — the publication
    e-mails, and the reminders SMARTOA_REMINDER_MINUTES before each day's HLAR). ``reminder_minutes`` None is
    the operator's lead time. The modification e-mails (a modification voids the acknowledgment) and the
    account-security e-mails cannot be switched off."""

    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="notification_preference", verbose_name=_("compte")
    )
    publications = models.BooleanField(_("e-mails de publication"), default=True)
    reminders = models.BooleanField(_("rappels"), default=True)
    reminder_minutes = models.PositiveSmallIntegerField(_("rappel avant l'HLAR (minutes)"), null=True, blank=True)
    updated_at = models.DateTimeField(_("modifié le"))

    class Meta:
        verbose_name = _("préférence de notification")
        verbose_name_plural = _("préférences de notification")

    def __str__(self):
        return f"{self.user_id} reminders={self.reminders} minutes={self.reminder_minutes}"


class ContractReminderChoice(models.Model):
    """An account's reminder choice for one of its contracts, in place of its account's (no row: as the account).
    ``reminder_minutes`` None is the operator's lead time."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("compte"))
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="+", verbose_name=_("contrat")
    )
    reminders = models.BooleanField(_("rappels"), default=True)
    reminder_minutes = models.PositiveSmallIntegerField(_("rappel avant l'HLAR (minutes)"), null=True, blank=True)
    updated_at = models.DateTimeField(_("modifié le"))

    class Meta:
        verbose_name = _("choix de rappel d'un contrat")
        verbose_name_plural = _("choix de rappel des contrats")
        constraints = [
            models.UniqueConstraint(fields=["user", "contract"], name="reminder_choice_one_per_user_contract")
        ]

    def __str__(self):
        return f"{self.user_id} {self.contract_id} reminders={self.reminders} minutes={self.reminder_minutes}"


class ExtraAddress(models.Model):
    """An e-mail address without an account (a control room's mailbox, say) that receives a contract's consigne
    e-mails and reminders, once confirmed through the link e-mailed to it. Only the SHA-256 of the link's token
    is kept, until it is used (``token_hash`` emptied) or replaced by a new link; the link expires at
    ``link_expires_at``. ``reminder_minutes`` None is the operator's lead time."""

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="extra_addresses", verbose_name=_("contrat")
    )
    email = models.EmailField(_("adresse e-mail"))
    language = models.CharField(_("langue"), max_length=5, default="fr")
    reminders = models.BooleanField(_("rappels"), default=True)
    reminder_minutes = models.PositiveSmallIntegerField(_("rappel avant l'HLAR (minutes)"), null=True, blank=True)
    added_by = models.CharField(_("ajoutée par"), max_length=254)
    added_at = models.DateTimeField(_("ajoutée le"))
    confirmed_at = models.DateTimeField(_("confirmée le"), null=True, blank=True)
    token_hash = models.CharField(
        max_length=64, null=True, blank=True, unique=True, verbose_name=_("empreinte du lien")
    )
    link_sent_at = models.DateTimeField(_("lien envoyé le"), null=True, blank=True)
    link_expires_at = models.DateTimeField(_("lien valable jusqu'au"), null=True, blank=True)

    class Meta:
        verbose_name = _("adresse e-mail supplémentaire")
        verbose_name_plural = _("adresses e-mail supplémentaires")
        ordering = ["contract", "email"]
        constraints = [models.UniqueConstraint(fields=["contract", "email"], name="extra_address_once_per_contract")]

    def __str__(self):
        return f"{self.contract_id} {self.email} ({'confirmed' if self.confirmed_at else 'pending'})"


class SentReminder(models.Model):
    """``recipient`` (an account's or an extra address) was reminded to acknowledge version ``number`` of a
    contract's consigne of ``delivery_day``: a reminder goes once per recipient, contract, day and version, at the
    lead time the recipient chose."""

    recipient = models.CharField(_("destinataire"), max_length=254)
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="+", verbose_name=_("contrat")
    )
    delivery_day = models.DateField(_("date de livraison"))
    number = models.PositiveIntegerField(_("version"))
    sent_at = models.DateTimeField(_("envoyé le"))

    class Meta:
        verbose_name = _("rappel envoyé")
        verbose_name_plural = _("rappels envoyés")
        constraints = [
            models.UniqueConstraint(
                fields=["delivery_day", "contract", "number", "recipient"], name="sent_reminder_once"
            )
        ]

    def __str__(self):
        return f"{self.recipient} {self.contract_id} {self.delivery_day} v{self.number}"
