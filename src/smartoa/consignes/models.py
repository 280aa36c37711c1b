"""Consignes (one per contract and delivery day), their immutable versions, acknowledgments, HLAR
overrides."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from smartoa.core.models import AppendOnly


class Consigne(models.Model):
    """The stop order of one contract for one delivery day; its content lives in versions.

    ``current_version`` (the highest-numbered one) is a stored fact, written only by publication and
    modification (``consignes/services.py``) and read through ``consignes/queries.py``. It is empty only inside
    the publishing transaction, between the consigne's row and its first version's.
    """

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="consignes", verbose_name=_("contrat")
    )
    delivery_day = models.DateField(_("date de livraison"))
    current_version = models.OneToOneField(
        "ConsigneVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("version en vigueur"),
    )

    class Meta:
        verbose_name = _("consigne")
        constraints = [models.UniqueConstraint(fields=["contract", "delivery_day"], name="consigne_one_per_day")]
        indexes = [models.Index(fields=["delivery_day"], name="consigne_day_idx")]  # publication by day
        ordering = ["-delivery_day"]

    def __str__(self):
        return f"{self.contract_id} {self.delivery_day}"


class ConsigneVersion(AppendOnly):
    """One published state of a consigne. Never changed or deleted once written.

    ``document`` holds the exact API JSON (written once at publication, served as is by the hot path).
    """

    immutable_reason = "publish a new version"

    consigne = models.ForeignKey(
        Consigne, on_delete=models.PROTECT, related_name="versions", verbose_name=_("consigne")
    )
    # Copies of the consigne's keys, so that the API's hot path finds the latest document with one index.
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="+", verbose_name=_("contrat")
    )
    delivery_day = models.DateField(verbose_name=_("date de livraison"))
    number = models.PositiveIntegerField(verbose_name=_("numéro"))
    created_at = models.DateTimeField(_("date de mise à jour"))
    created_by = models.CharField(max_length=200, verbose_name=_("publiée par"))
    reason = models.TextField(_("motif"), blank=True)
    has_stop = models.BooleanField(verbose_name=_("avec arrêt"))
    periods = models.JSONField(verbose_name=_("périodes"))
    document = models.TextField(verbose_name=_("document (API)"))

    class Meta:
        verbose_name = _("version de consigne")
        verbose_name_plural = _("versions de consigne")
        constraints = [models.UniqueConstraint(fields=["consigne", "number"], name="version_unique_number")]
        indexes = [models.Index(fields=["contract", "delivery_day", "number"], name="version_latest_idx")]
        ordering = ["consigne", "number"]

    def __str__(self):
        return f"{self.consigne} v{self.number}"


class Acknowledgment(AppendOnly):
    """A producer's acknowledgment (acquiescement) of one version of a day's consigne. Never changed or
    deleted: acknowledging again adds a row."""

    immutable_reason = "acknowledge again"

    class Channel(models.TextChoices):
        API = "api", "API"
        PORTAL = "portal", _("Portail")

    consigne = models.ForeignKey(
        Consigne, on_delete=models.PROTECT, related_name="acknowledgments", verbose_name=_("consigne")
    )
    version = models.ForeignKey(
        ConsigneVersion, on_delete=models.PROTECT, related_name="acknowledgments", verbose_name=_("version")
    )
    acknowledged_at = models.DateTimeField(verbose_name=_("acquiescé le"))
    channel = models.CharField(max_length=10, choices=Channel.choices, verbose_name=_("canal"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("compte")
    )
    token = models.ForeignKey(
        "contracts.ApiToken", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("jeton")
    )
    actor = models.CharField(max_length=200, verbose_name=_("auteur"))
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("adresse IP"))

    class Meta:
        verbose_name = _("acquiescement")
        ordering = ["-acknowledged_at", "-id"]

    def __str__(self):
        return f"{self.version} acknowledged {self.acknowledged_at:%Y-%m-%d %H:%M}"


class HlarOverride(models.Model):
    """A postponed (or explicitly set) HLAR for one delivery day, instead of the default D−1 16:30."""

    delivery_day = models.DateField(unique=True, verbose_name=_("date de livraison"))
    hlar_at = models.DateTimeField(verbose_name=_("HLAR"))
    set_at = models.DateTimeField(verbose_name=_("fixée le"))
    set_by = models.CharField(max_length=200, verbose_name=_("fixée par"))

    class Meta:
        verbose_name = _("HLAR fixée")
        verbose_name_plural = _("HLAR fixées")

    def __str__(self):
        return f"{self.delivery_day}: {self.hlar_at}"


class ReminderSent(models.Model):
    """The accounts of a contract were reminded to acknowledge version ``number`` of its consigne of
    ``delivery_day`` (reminders go once per contract, day and version)."""

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="+", verbose_name=_("contrat")
    )
    delivery_day = models.DateField(_("date de livraison"))
    number = models.PositiveIntegerField(_("version"))
    sent_at = models.DateTimeField(_("envoyé le"))

    class Meta:
        verbose_name = _("rappel d'acquiescement")
        verbose_name_plural = _("rappels d'acquiescement")
        constraints = [
            models.UniqueConstraint(fields=["contract", "delivery_day", "number"], name="reminder_once_per_version")
        ]
        indexes = [models.Index(fields=["delivery_day"], name="reminder_day_idx")]

    def __str__(self):
        return f"{self.contract_id} {self.delivery_day} v{self.number}"
