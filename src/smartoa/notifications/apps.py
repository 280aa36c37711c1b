from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "smartoa.notifications"
    label = "notifications"
