from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    """The top floor: what runs the whole platform (the server, the demo data); it may import every feature."""

    name = "smartoa.runtime"
    label = "runtime"
