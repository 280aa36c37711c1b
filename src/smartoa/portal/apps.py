from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The producers' portal (and the login every account goes through, operators included)."""

    name = "smartoa.portal"
    label = "portal"
