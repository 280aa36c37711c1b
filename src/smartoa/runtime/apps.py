from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RuntimeConfig(AppConfig):
    """The top floor: what runs the whole platform (the server, the demo data); it may import every feature."""

    name = "smartoa.runtime"
    verbose_name = _("Exécution")
    label = "runtime"
