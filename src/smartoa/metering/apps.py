from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "smartoa.metering"
    label = "metering"
