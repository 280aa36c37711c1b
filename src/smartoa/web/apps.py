from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The web layer both the portal and the back office stand on (neither imports the other)."""

    name = "smartoa.web"
    verbose_name = _("Web")
    label = "web"
