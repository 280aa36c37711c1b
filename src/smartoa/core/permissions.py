"""The operators' permissions and roles, declared once, as data: each permission's codename and what it allows,
each role's permissions. The permissions belong to the account model's content type (``accounts.<codename>``);
the groups, who is in which and role changes are ``accounts/roles.py`` (which re-exports all of this). Here, in
the core, so that the admin's base (``core/admin.py``) names them without importing a feature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from smartoa.domain.errors import InvalidInput

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise
else:
    StrOrPromise = str

APP = "accounts"

# The permissions, codename → what it allows (shown in Django's permission lists).
PERMISSIONS = {
    "view_backoffice": "Voir le back-office, l'administration et les exports",
    "publish_consignes": "Publier et modifier les consignes",
    "set_hlar": "Fixer l'HLAR (heure limite d'accès au réseau)",
    "manage_contracts": "Gérer les contrats et les comptes des producteurs",
    "load_curves": "Importer les courbes de production",
    "run_compliance": "Lancer le contrôle de conformité et saisir les compensations",
    "manage_operators": "Gérer les comptes des opérateurs et leurs rôles",
    "reset_second_factor": "Réinitialiser la double authentification d'un compte",
}

# The permissions as ``user.has_perm`` names them.
VIEW = f"{APP}.view_backoffice"
PUBLISH = f"{APP}.publish_consignes"
HLAR = f"{APP}.set_hlar"
CONTRACTS = f"{APP}.manage_contracts"
CURVES = f"{APP}.load_curves"
COMPLIANCE = f"{APP}.run_compliance"
OPERATORS = f"{APP}.manage_operators"
RESET_SECOND_FACTOR = f"{APP}.reset_second_factor"


@dataclass(frozen=True)
class OperatorRole:
    key: str  # what the command line takes: ``--role operateur``
    group: str  # the Django group's name (stored; never translated)
    label: StrOrPromise  # for people, translated
    codenames: frozenset[str]
    summary: StrOrPromise  # what the role may do, for people, translated

    def __str__(self) -> str:
        return str(self.label)

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset(f"{APP}.{codename}" for codename in self.codenames)


_READ = frozenset({"view_backoffice"})
_OPERATE = _READ | {"publish_consignes", "set_hlar", "manage_contracts", "load_curves", "run_compliance"}
_ADMINISTER = _OPERATE | {"manage_operators", "reset_second_factor"}

LECTURE = OperatorRole(
    "lecture", "Lecture", _("Lecture"), _READ, _("Voit toutes les pages, le journal et les exports ; n'écrit rien.")
)
OPERATEUR = OperatorRole(
    "operateur",
    "Opérateur",
    _("Opérateur"),
    _OPERATE,
    _(
        "Lecture, plus la publication et la modification des consignes, l'heure limite d'accès au réseau, les "
        "contrats et les comptes des producteurs, les courbes et la conformité."
    ),
)
ADMINISTRATEUR = OperatorRole(
    "administrateur",
    "Administrateur",
    _("Administrateur"),
    _ADMINISTER,
    _(
        "Opérateur, plus les comptes des opérateurs et leurs rôles, et la réinitialisation de la double "
        "authentification."
    ),
)
ROLES = (LECTURE, OPERATEUR, ADMINISTRATEUR)  # from the least to the most allowed


def role_named(name: str) -> OperatorRole:
    """The role called ``name`` (its key, or its group's name in any case); InvalidInput otherwise."""
    wanted = name.strip().casefold()
    for role in ROLES:
        if wanted in (role.key, role.group.casefold()):
            return role
    raise InvalidInput(
        gettext_noop("unknown role %(role)s (expected one of: %(roles)s)"),
        role=name,
        roles=", ".join(role.key for role in ROLES),
    )


def role_needed(permission: str) -> OperatorRole:
    """The least role that has ``permission`` (e.g. ``accounts.set_hlar`` → Opérateur)."""
    return next(role for role in ROLES if permission in role.permissions)


def choices() -> list[tuple[str, StrOrPromise]]:
    """(key, label) of the roles, for forms."""
    return [(role.key, role.label) for role in ROLES]
