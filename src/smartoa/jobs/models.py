"""Job runs: one row per run of a periodic job (or of queued delivery work), with its outcome and counts, so the
control screen can say when a job has not succeeded recently."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """One run of a job: when it started and ended, how it ended, what it counted (e.g. messages sent), and for a
    failure the error and the end of its traceback."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("en cours")
        SUCCEEDED = "succeeded", _("réussi")
        FAILED = "failed", _("échoué")

    name = models.CharField(_("tâche"), max_length=100)
    started_at = models.DateTimeField(_("début"))
    finished_at = models.DateTimeField(_("fin"), null=True, blank=True)
    outcome = models.CharField(_("résultat"), max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    counts = models.JSONField(_("décomptes"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    # The period a scheduled run claimed (its start, UTC): one run per job and slot across workers; NULL for a
    # direct run (always run; NULLs are distinct in the unique constraint).
    slot = models.DateTimeField(_("créneau"), null=True, blank=True)

    class Meta:
        verbose_name = _("exécution de tâche")
        verbose_name_plural = _("exécutions de tâches")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["name", "-started_at"], name="jobrun_name_started_idx")]
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="jobrun_one_per_slot")]

    def __str__(self):
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M:%S} {self.outcome}"
