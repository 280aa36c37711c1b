from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The producers' portal (and the login every account goes through, operators included)."""

    name = "smartoa.portal"
    verbose_name = _("Portail")
    label = "portal"
