"""Compliance results (per run, contract-month and episode) and the recorded inputs of compensation."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from smartoa.contracts.models import Contract


class ComplianceRun(models.Model):
    """One computation of a month's compliance; its results replace the month's previous ones once it is
    ``complete`` (written chunk by chunk under its id, then made the month's current run in one short
    transaction: readers only ever see complete runs). A partial re-run evaluates the contracts whose inputs
    changed (``recomputed``) and keeps the other contracts' results of ``reused_from`` (copied under its id)."""

    month = models.DateField(_("mois"), db_index=True)
    started_at = models.DateTimeField(_("début du calcul"))
    finished_at = models.DateTimeField(_("fin du calcul"))
    actor = models.CharField(max_length=200, verbose_name=_("auteur"))
    tolerance_kwh = models.FloatField(_("tolérance (kWh par pas)"))
    tolerance_percent = models.FloatField(_("tolérance (% de la puissance installée)"))
    contracts = models.PositiveIntegerField(_("contrats"))
    episodes = models.PositiveIntegerField(_("épisodes"))
    complete = models.BooleanField(_("complet"), default=True)
    recomputed = models.PositiveIntegerField(_("contrats recalculés"), null=True, blank=True)
    reused_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("résultats repris du calcul"),
    )

    class Meta:
        verbose_name = _("calcul de conformité")
        verbose_name_plural = _("calculs de conformité")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.month:%Y-%m} ({self.started_at:%Y-%m-%d %H:%M})"


class _Figures(models.Model):
    # The run that evaluated these figures: the row's own run, or an earlier one whose result a partial re-run
    # kept (null: rows stored before partial re-runs, computed by their own run).
    computed_by = models.ForeignKey(
        ComplianceRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("calculé par")
    )
    checked_steps = models.PositiveIntegerField(_("pas contrôlés"))
    breach_steps = models.PositiveIntegerField(_("pas en dépassement"))
    missing_steps = models.PositiveIntegerField(_("pas manquants"))
    energy_during_stop_kwh = models.FloatField(_("énergie pendant l'arrêt (kWh, pas contrôlés)"))
    energy_neutralised_kwh = models.FloatField(_("énergie des pas neutralisés (kWh)"))
    excess_kwh = models.FloatField(_("énergie excédentaire (kWh)"))

    class Meta:
        abstract = True


class ContractMonth(_Figures):
    """A contract's compliance for a month: totals of the episodes that start in the month, figures per day,
    and the curve revisions and consigne versions used (``inputs``)."""

    run = models.ForeignKey(
        ComplianceRun, on_delete=models.CASCADE, related_name="contract_months", verbose_name=_("calcul")
    )
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="+", verbose_name=_("contrat"))
    month = models.DateField(_("mois"))
    episodes = models.PositiveIntegerField(_("épisodes"))
    days = models.JSONField(default=dict, verbose_name=_("jours"))
    inputs = models.JSONField(default=dict, verbose_name=_("entrées"))
    compensation = models.JSONField(_("compensation"), default=dict)

    class Meta:
        verbose_name = _("conformité mensuelle")
        verbose_name_plural = _("conformités mensuelles")
        constraints = [models.UniqueConstraint(fields=["run", "contract"], name="contractmonth_run_unique")]
        ordering = ["month", "contract"]

    def __str__(self):
        return f"{self.contract_id} {self.month:%Y-%m}"


class EpisodeResult(_Figures):
    """One stop episode (maximal run of stop steps, possibly across midnight), attributed to its start month."""

    run = models.ForeignKey(
        ComplianceRun, on_delete=models.CASCADE, related_name="episode_results", verbose_name=_("calcul")
    )
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="+", verbose_name=_("contrat"))
    month = models.DateField(_("mois"))
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))

    class Meta:
        verbose_name = _("épisode d'arrêt")
        verbose_name_plural = _("épisodes d'arrêt")
        indexes = [models.Index(fields=["month", "contract", "start"], name="episode_month_idx")]
        ordering = ["contract", "start"]

    def __str__(self):
        return f"{self.contract_id} {self.start:%Y-%m-%d %H:%M}"


class CompensationInput(models.Model):
    """The explicit inputs of a contract-month's compensation: a price and an estimated producible curve
    (an import of kind ``producible``), with who recorded them and when. Without it: "not computable"."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="+", verbose_name=_("contrat"))
    month = models.DateField(_("mois (premier jour)"))
    rule = models.CharField(_("règle"), max_length=50, default="producible_x_price")
    price_eur_per_mwh = models.DecimalField(_("prix (€/MWh)"), max_digits=10, decimal_places=3, null=True, blank=True)
    producible_import = models.ForeignKey(
        "metering.CurveImport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("productible estimé (import)"),
    )
    recorded_at = models.DateTimeField(_("enregistré le"))
    recorded_by = models.CharField(_("enregistré par"), max_length=200)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("entrée de compensation")
        verbose_name_plural = _("entrées de compensation")
        constraints = [models.UniqueConstraint(fields=["contract", "month"], name="compensation_input_unique")]

    def __str__(self):
        return f"{self.contract_id} {self.month:%Y-%m}"


class ContractCurves(Contract):
    """The contracts, as listed in the back office's "curves and compliance" entry (a proxy, no table)."""

    class Meta:
        proxy = True
        verbose_name = _("courbes et conformité d'un contrat")
        verbose_name_plural = _("courbes et conformité des contrats")


class ComplianceRequest(models.Model):
    """An operator's request to compute (again) a month's compliance, run by the worker: its state, its progress
    (contracts evaluated out of the month's total) and, once done, the run it recorded; once failed, why. At most
    one request per month is queued or running at a time."""

    class State(models.TextChoices):
        QUEUED = "queued", _("en attente")
        RUNNING = "running", _("en cours")
        DONE = "done", _("terminé")
        FAILED = "failed", _("échoué")

    ACTIVE = (State.QUEUED, State.RUNNING)

    month = models.DateField(_("mois"))
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.QUEUED)
    requested_by = models.CharField(_("demandé par"), max_length=200)
    requested_at = models.DateTimeField(_("demandé le"))
    started_at = models.DateTimeField(_("début"), null=True, blank=True)
    finished_at = models.DateTimeField(_("fin"), null=True, blank=True)
    updated_at = models.DateTimeField(_("dernière avancée"))
    done = models.PositiveIntegerField(_("contrats évalués"), default=0)
    total = models.PositiveIntegerField(_("contrats à évaluer"), default=0)
    run = models.ForeignKey(
        ComplianceRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("calcul")
    )
    error = models.JSONField(_("erreur"), default=dict, blank=True)

    class Meta:
        verbose_name = _("demande de calcul de conformité")
        verbose_name_plural = _("demandes de calcul de conformité")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["month"], condition=models.Q(state__in=["queued", "running"]), name="compliance_request_active"
            )
        ]
        indexes = [models.Index(fields=["month", "-requested_at"], name="compliance_request_month_idx")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.state}"

    @property
    def active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0
