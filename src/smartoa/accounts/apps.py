from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "smartoa.accounts"
    label = "accounts"
