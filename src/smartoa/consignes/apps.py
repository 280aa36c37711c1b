from django.apps import AppConfig


class ConsignesConfig(AppConfig):
    name = "smartoa.consignes"
    label = "consignes"
