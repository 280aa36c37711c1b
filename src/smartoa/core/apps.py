from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "smartoa.core"
    label = "core"
