from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "smartoa.audit"
    label = "audit"
