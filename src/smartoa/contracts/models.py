"""Contracts, their eligibility rules, allowed IPs and API tokens."""

from decimal import Decimal

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from smartoa.domain.text import CONTRACT_ID_PATTERN


class Sector(models.TextChoices):
    PV = "pv", _("Photovoltaïque")
    WIND_ONSHORE = "wind_onshore", _("Éolien terrestre")
    WIND_OFFSHORE = "wind_offshore", _("Éolien en mer")


class PowerUnit(models.TextChoices):
    MW = "MW", "MW"
    MWC = "MWc", "MWc"


class Contract(models.Model):
    """A purchase-obligation (OA) contract, identified by the buyer's ``BOA…`` id."""

    contract_id = models.CharField(
        _("identifiant contrat"),
        max_length=32,
        unique=True,
        validators=[RegexValidator(CONTRACT_ID_PATTERN, _("lettres majuscules et chiffres uniquement"))],
    )
    name = models.CharField(_("nom de l'installation"), max_length=200)
    display_name = models.CharField(
        _("nom d'usage"), max_length=100, blank=True, help_text=_("le nom choisi par les utilisateurs du contrat")
    )
    network_id = models.CharField(_("identifiant gestionnaire de réseau"), max_length=64, blank=True)
    sector = models.CharField(_("filière"), max_length=20, choices=Sector.choices)
    installed_power = models.DecimalField(_("puissance installée"), max_digits=10, decimal_places=3)
    power_unit = models.CharField(_("unité"), max_length=3, choices=PowerUnit.choices)
    active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("créé le"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("modifié le"))

    class Meta:
        verbose_name = _("contrat")
        ordering = ["contract_id"]

    def __str__(self):
        return self.contract_id

    @property
    def label(self) -> str:
        """The name shown in the portal: the users' display name, else the contract's name."""
        return self.display_name or self.name

    @property
    def allows_limitation(self) -> bool:
        """Offshore wind may be asked to limit (fractional values); others only to stop."""
        return self.sector == Sector.WIND_OFFSHORE


class EligibilityRule(models.Model):
    """From ``effective_from`` on, contracts of ``sector`` with at least ``min_power_mw`` are in scope.

    The rule in force on a day is the one of the sector with the latest ``effective_from`` not after it.
    """

    sector = models.CharField(max_length=20, choices=Sector.choices, verbose_name=_("filière"))
    min_power_mw = models.DecimalField(_("puissance minimale (MW ou MWc)"), max_digits=10, decimal_places=3)
    effective_from = models.DateField(_("en vigueur à partir du"))
    source = models.CharField(_("texte de référence"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("règle d'éligibilité")
        verbose_name_plural = _("règles d'éligibilité")
        constraints = [models.UniqueConstraint(fields=["sector", "effective_from"], name="eligibility_unique_day")]
        ordering = ["sector", "effective_from"]

    def __str__(self):
        return f"{self.sector} ≥ {self.min_power_mw} from {self.effective_from}"

    def admits(self, installed_power: Decimal) -> bool:
        return installed_power >= self.min_power_mw


class AllowedIP(models.Model):
    """A public fixed IP address (v4 or v6, no range, no name) allowed to call the API for a contract."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="allowed_ips", verbose_name=_("contrat")
    )
    address = models.GenericIPAddressField(_("adresse IP"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("ajoutée le"))

    class Meta:
        verbose_name = _("adresse IP autorisée")
        verbose_name_plural = _("adresses IP autorisées")
        constraints = [models.UniqueConstraint(fields=["contract", "address"], name="allowed_ip_unique")]

    def __str__(self):
        return f"{self.contract_id} {self.address}"


class ApiToken(models.Model):
    """A contract's API token. Only its SHA-256 hash is stored; at most one is active per contract."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="tokens", verbose_name=_("contrat"))
    token_hash = models.CharField(max_length=64, unique=True, verbose_name=_("empreinte du jeton"))
    prefix = models.CharField(_("début du jeton"), max_length=12)
    created_at = models.DateTimeField(verbose_name=_("créé le"))
    expires_at = models.DateTimeField(verbose_name=_("expire le"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("révoqué le"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("dernière utilisation"))
    last_used_ip = models.GenericIPAddressField(
        null=True, blank=True, verbose_name=_("adresse de la dernière utilisation")
    )
    created_by = models.CharField(max_length=200, blank=True, verbose_name=_("créé par"))
    # The last event stream opened with the token (``smartoa stream``), written at most once a minute.
    last_stream_at = models.DateTimeField(null=True, blank=True, verbose_name=_("dernière connexion au flux"))
    last_stream_ip = models.GenericIPAddressField(
        null=True, blank=True, verbose_name=_("adresse de la dernière connexion au flux")
    )

    class Meta:
        verbose_name = _("jeton API")
        verbose_name_plural = _("jetons API")
        constraints = [
            models.UniqueConstraint(
                fields=["contract"], condition=Q(revoked_at__isnull=True), name="token_one_active_per_contract"
            )
        ]

    def __str__(self):
        return f"{self.contract_id} {self.prefix}…"
