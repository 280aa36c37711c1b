"""Realised (and estimated producible) 5-minute curves: imports, one stored array per contract-month, and the
history of revised values.

``CurveMonth`` holds a contract's whole local month as one array, one value per 5-minute step from the
month's first local midnight to the next month's (8,640 steps for 30 days, ±12 in a daylight-saving month),
encoded losslessly by ``metering.codec`` (NaN = no data). One row per contract-month keeps an import of a
month for 10,000 contracts at 10,000 rows, and reading a month back at one blob per contract.

An import that only fills steps without data updates the month in place. An import that gives again steps
that had data is a **revision**: the month's previous array is first copied to ``CurveHistory`` (with its
revision number and the import that had written it), then the revision number goes up. So every value ever
received is kept, and the latest wins.
"""

import numpy as np
from django.db import models
from django.utils.translation import gettext_lazy as _

from smartoa.metering import codec


class CurveKind(models.TextChoices):
    REALISED = "realised", _("Courbe réalisée")
    PRODUCIBLE = "producible", _("Productible estimé")


class CurveImport(models.Model):
    """One imported file: where it came from, when it was received, what it held."""

    kind = models.CharField(_("type de courbe"), max_length=12, choices=CurveKind.choices, default=CurveKind.REALISED)
    source = models.CharField(_("source"), max_length=300)
    received_at = models.DateTimeField(_("reçu le"))
    actor = models.CharField(max_length=200, verbose_name=_("auteur"))
    sha256 = models.CharField(max_length=64, verbose_name=_("empreinte SHA-256"))
    rows = models.PositiveBigIntegerField(_("lignes"))
    contract_days = models.PositiveIntegerField(_("jours-contrats"))
    revised_days = models.PositiveIntegerField(_("jours-contrats révisés"), default=0)
    first_day = models.DateField(_("premier jour"))
    last_day = models.DateField(_("dernier jour"))

    class Meta:
        verbose_name = _("import de courbes")
        verbose_name_plural = _("imports de courbes")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.source} ({self.received_at:%Y-%m-%d %H:%M})"


class CurveArray(models.Model):
    """What a stored month array carries: ``steps`` values, ``present`` of them with data."""

    steps = models.PositiveSmallIntegerField(_("pas"))
    present = models.PositiveSmallIntegerField(_("pas renseignés"))
    values = models.BinaryField()

    class Meta:
        abstract = True

    def array(self) -> np.ndarray:
        """The month's energies in kWh (float64, NaN = no data)."""
        return codec.decode(self.values, self.steps)


class CurveMonth(CurveArray):
    """A contract's current curve for one local month (``month`` = its first day)."""

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("contrat")
    )
    kind = models.CharField(
        max_length=12, choices=CurveKind.choices, default=CurveKind.REALISED, verbose_name=_("type de courbe")
    )
    month = models.DateField(_("mois"))
    revision = models.PositiveIntegerField(_("révision"), default=1)
    curve_import = models.ForeignKey(
        CurveImport, on_delete=models.PROTECT, related_name="+", verbose_name=_("dernier import")
    )

    class Meta:
        verbose_name = _("courbe mensuelle")
        verbose_name_plural = _("courbes mensuelles")
        constraints = [models.UniqueConstraint(fields=["contract", "kind", "month"], name="curvemonth_unique")]
        indexes = [models.Index(fields=["kind", "month"], name="curvemonth_month_idx")]

    def __str__(self):
        return f"{self.contract_id} {self.month:%Y-%m} r{self.revision}"


class CurveHistory(CurveArray):
    """A contract-month's array as it was before ``replaced_by`` revised some of its steps."""

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("contrat")
    )
    kind = models.CharField(
        max_length=12, choices=CurveKind.choices, default=CurveKind.REALISED, verbose_name=_("type de courbe")
    )
    month = models.DateField(_("mois"))
    revision = models.PositiveIntegerField(_("révision"))
    curve_import = models.ForeignKey(
        CurveImport, on_delete=models.PROTECT, related_name="+", verbose_name=_("écrit par")
    )
    replaced_by = models.ForeignKey(
        CurveImport, on_delete=models.PROTECT, related_name="+", verbose_name=_("remplacé par")
    )

    class Meta:
        verbose_name = _("courbe mensuelle révisée")
        verbose_name_plural = _("historique des courbes")
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind", "month", "revision"], name="curvehistory_unique")
        ]

    def __str__(self):
        return f"{self.contract_id} {self.month:%Y-%m} r{self.revision} (history)"
