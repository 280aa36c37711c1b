from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_role_groups(sender, using="default", **kwargs):
    """After every ``migrate`` (and the test database's flushes), the roles' groups match ``accounts/roles.py``."""
    from smartoa.accounts.roles import sync_groups

    sync_groups()


class AccountsConfig(AppConfig):
    name = "smartoa.accounts"
    verbose_name = _("Comptes")
    label = "accounts"

    def ready(self):
        post_migrate.connect(_sync_role_groups, sender=self, dispatch_uid="smartoa.accounts.sync_role_groups")
