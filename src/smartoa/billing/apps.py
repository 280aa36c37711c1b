from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "smartoa.billing"
    label = "billing"
