from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """The top floor: what runs the whole platform (the server, the demo data); it may import every feature."""

    name = "smartoa.platform"
    label = "platform"
