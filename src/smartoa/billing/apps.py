from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "smartoa.billing"
    verbose_name = _("Conformité et relevés")
    label = "billing"
