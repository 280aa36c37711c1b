"""Realised (and estimated producible) 5-minute curves: imports and one stored array per contract-day revision.

Each ``CurveDay`` holds a whole local day as a fixed-length array of little-endian float64 (``<f8``), one value
per 5-minute step (288, or 276/300 on daylight-saving days), NaN = no data. float64 rather than float32: the
values are billing data and must come back exactly as received (float32 keeps only ~7 significant digits,
e.g. 123456.789 kWh would change); the cost is 2.3 kB per contract-day.

A later import of the same contract-day adds a new revision (``revision`` + 1) and makes it the current one;
older revisions stay as history.
"""

import numpy as np
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

STEP_DTYPE = np.dtype("<f8")


class CurveKind(models.TextChoices):
    REALISED = "realised", _("Courbe réalisée")
    PRODUCIBLE = "producible", _("Productible estimé")


class CurveImport(models.Model):
    """One imported file: where it came from, when it was received, what it held."""

    kind = models.CharField(_("type de courbe"), max_length=12, choices=CurveKind.choices, default=CurveKind.REALISED)
    source = models.CharField(_("source"), max_length=300)
    received_at = models.DateTimeField(_("reçu le"))
    actor = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
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


class CurveDay(models.Model):
    """A contract's curve for one local day, in one revision. ``values`` is ``steps`` × ``<f8``, NaN = missing."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=CurveKind.choices, default=CurveKind.REALISED)
    day = models.DateField(_("jour"))
    revision = models.PositiveIntegerField(_("révision"))
    current = models.BooleanField(_("en vigueur"), default=True)
    curve_import = models.ForeignKey(CurveImport, on_delete=models.PROTECT, related_name="days")
    steps = models.PositiveSmallIntegerField(_("pas"))
    present = models.PositiveSmallIntegerField(_("pas renseignés"))
    values = models.BinaryField()

    class Meta:
        verbose_name = _("courbe journalière")
        verbose_name_plural = _("courbes journalières")
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind", "day", "revision"], name="curveday_unique_revision"),
            models.UniqueConstraint(
                fields=["contract", "kind", "day"], condition=Q(current=True), name="curveday_one_current"
            ),
        ]
        indexes = [models.Index(fields=["kind", "day", "current"], name="curveday_day_idx")]

    def __str__(self):
        return f"{self.contract_id} {self.day} r{self.revision}"

    def array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.values), dtype=STEP_DTYPE)
