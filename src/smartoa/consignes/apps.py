from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsignesConfig(AppConfig):
    name = "smartoa.consignes"
    verbose_name = _("Consignes")
    label = "consignes"
