"""The audit log of security and business events. Rows are only ever added."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from smartoa.core.models import AppendOnly


class AuditEvent(AppendOnly):
    at = models.DateTimeField(db_index=True, verbose_name=_("date"))
    action = models.CharField(max_length=64, db_index=True, verbose_name=_("action"))
    actor = models.CharField(
        max_length=200, help_text="who: an e-mail, 'cli', 'api:<token prefix>', 'system'", verbose_name=_("auteur")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("compte")
    )
    contract = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("contrat")
    )
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("adresse IP"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("détails"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("événement d'audit")
        verbose_name_plural = _("journal d'audit")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor}"
