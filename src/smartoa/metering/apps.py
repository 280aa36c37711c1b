from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeteringConfig(AppConfig):
    name = "smartoa.metering"
    verbose_name = _("Courbes réalisées")
    label = "metering"
