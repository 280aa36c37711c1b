from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "smartoa.contracts"
    label = "contracts"
