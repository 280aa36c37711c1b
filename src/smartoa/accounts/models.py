"""Accounts (people) and their roles on contracts."""

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("an e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password) if password else user.set_unusable_password()
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username):
        """The account of an e-mail address typed in any case (accounts are stored lower-case)."""
        return self.get(email=username.lower() if isinstance(username, str) else username)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, must_change_password=False)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: an operator (staff) or a producer-side user (Producteur / Gestionnaire)."""

    email = models.EmailField(_("adresse e-mail"), unique=True)
    full_name = models.CharField(_("nom"), max_length=200, blank=True)
    is_staff = models.BooleanField(_("opérateur"), default=False)
    is_active = models.BooleanField(_("actif"), default=True)
    must_change_password = models.BooleanField(_("doit changer son mot de passe"), default=True)
    provisional_until = models.DateTimeField(
        _("mot de passe provisoire valable jusqu'au"), null=True, blank=True
    )  # set with a provisional password; None once the user chose theirs
    language = models.CharField(
        _("langue"), max_length=5, default="fr", choices=[("fr", "Français"), ("en", "English")]
    )
    date_joined = models.DateTimeField(_("créé le"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("compte")
        verbose_name_plural = _("comptes")

    def __str__(self):
        return self.email


class Role(models.Model):
    """Links an account to a contract: holder (Producteur) or manager (Gestionnaire, at most one per contract).

    Both roles have full rights on the contract (no read-only level exists, per the seed).
    """

    class Kind(models.TextChoices):
        HOLDER = "holder", _("Producteur")
        MANAGER = "manager", _("Gestionnaire")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles", verbose_name=_("compte"))
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="roles", verbose_name=_("contrat")
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("rôle"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("créé le"))

    class Meta:
        verbose_name = _("rôle")
        constraints = [
            models.UniqueConstraint(fields=["user", "contract"], name="role_one_per_user_contract"),
            models.UniqueConstraint(
                fields=["contract"], condition=Q(kind="manager"), name="role_one_manager_per_contract"
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_kind_display()} — {self.contract}"


class BackupCode(models.Model):
    """A one-time code that replaces the authenticator once (shown once at enrolment). Only a keyed hash is
    stored (``accounts/security.py``)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="backup_codes", verbose_name=_("compte"))
    code_hash = models.CharField(max_length=64, unique=True, verbose_name=_("empreinte du code"))
    created_at = models.DateTimeField(verbose_name=_("créé le"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("utilisé le"))

    class Meta:
        verbose_name = _("code de secours")
        verbose_name_plural = _("codes de secours")

    def __str__(self):
        return f"{self.user} {'used' if self.used_at else 'unused'}"


class AccountSession(AbstractBaseSession):
    """A browser session: Django's database session (its key, data and expiry) with the account signed in with it,
    the address it signed in from and since when (``accounts/sessions.py`` fills them from the session's data at
    each save). An account can see its open sessions and end the others ("Mon compte")."""

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("compte")
    )
    ip = models.GenericIPAddressField(_("adresse"), null=True, blank=True)
    signed_in_at = models.DateTimeField(_("connexion"), null=True, blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls):
        """The session engine's store (``accounts/sessions.py``, named by SESSION_ENGINE: the engine depends on
        this model, not the other way round)."""
        return import_string(f"{settings.SESSION_ENGINE}.SessionStore")
