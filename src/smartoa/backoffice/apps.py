from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "smartoa.backoffice"
    label = "backoffice"
