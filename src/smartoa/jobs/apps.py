from importlib import import_module

from django.apps import AppConfig, apps
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "smartoa.jobs"
    verbose_name = _("Tâches planifiées")
    label = "jobs"

    def ready(self):
        """Import every feature's ``jobs.py``, so that its tasks are registered on the one task engine (the worker
        runs them; the control screen lists them) in every process."""
        for config in apps.get_app_configs():
            if config.name.startswith("smartoa.") and module_has_submodule(config.module, "jobs"):
                import_module(f"{config.name}.jobs")
