"""Operator roles: who is in which, and changing it.

An operator account is a staff account (``User.is_staff``) in exactly one role, a Django group named by the
role's French name. The roles and their permissions are declared once, as data, in ``core/permissions.py``
(there so that the admin's base can name them without importing a feature) and re-exported here:

- *Lecture*: every page, list and export, nothing written;
- *Opérateur*: Lecture, plus publication and modification of consignes, the HLAR, contracts and producers'
  accounts (import, manager, tokens, addresses), curves and compliance;
- *Administrateur*: Opérateur, plus operator accounts and their roles, and second-factor resets. An
  Administrateur can do everything an Opérateur does: the buyer's first administrator (created with
  ``smartoa operators create``) must be able to run the platform alone.

``sync_groups`` keeps the groups equal to that table (run after every ``migrate`` and database flush:
``accounts/apps.py``); ``set_role`` changes an operator's role, audited. Views and admin operations name the
permission they need (``backoffice/access.py``, ``core/admin.py``).
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_noop

from smartoa.accounts.models import User
from smartoa.audit.services import record
from smartoa.core.permissions import (
    ADMINISTRATEUR,
    COMPLIANCE,
    CONTRACTS,
    CURVES,
    HLAR,
    LECTURE,
    OPERATEUR,
    OPERATORS,
    PERMISSIONS,
    PUBLISH,
    RESET_SECOND_FACTOR,
    ROLES,
    VIEW,
    OperatorRole,
    choices,
    role_named,
    role_needed,
)
from smartoa.domain.errors import Conflict
from smartoa.domain.text import check_text

__all__ = [  # with the permissions of core/permissions.py, for the features' views and operations
    "ADMINISTRATEUR",
    "COMPLIANCE",
    "CONTRACTS",
    "CURVES",
    "HLAR",
    "LECTURE",
    "OPERATEUR",
    "OPERATORS",
    "PUBLISH",
    "RESET_SECOND_FACTOR",
    "ROLES",
    "VIEW",
    "OperatorRole",
    "choices",
    "role_named",
    "role_needed",
    "role_of",
    "roles_of",
    "set_role",
    "sync_groups",
]


def role_of(user) -> OperatorRole | None:
    """The operator role of ``user`` (None for a producer's account or a staff account without a role)."""
    if not getattr(user, "is_staff", False):
        return None
    names = {group.name for group in user.groups.all()}
    return next((role for role in reversed(ROLES) if role.group in names), None)


def roles_of(users) -> dict[int, OperatorRole]:
    """The operator role of each staff account of ``users``, by pk (one query)."""
    staff = [user.pk for user in users if user.is_staff]
    names: dict[int, set[str]] = {}
    for pk, name in User.groups.through.objects.filter(user_id__in=staff).values_list("user_id", "group__name"):
        names.setdefault(pk, set()).add(name)
    found = {}
    for pk, held in names.items():
        role = next((role for role in reversed(ROLES) if role.group in held), None)
        if role is not None:
            found[pk] = role
    return found


def sync_groups() -> None:
    """Create the permissions and the roles' groups, and give each group exactly its role's permissions."""
    content_type = ContentType.objects.get_for_model(User)
    permissions = {}
    for codename, name in PERMISSIONS.items():
        permissions[codename], _created = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role.group)
        group.permissions.set([permissions[codename] for codename in sorted(role.codenames)])


def set_role(user, role: OperatorRole, *, actor: str, reason: str = "") -> bool:
    """Give the operator account ``user`` the role ``role`` (in place of its current one), audited
    (``account.role_changed``, with the ``reason`` given); returns False if it already had it. Refused for a
    producer's account (operators are created as such: ``create_account(role=...)``) and for the last active
    Administrateur."""
    reason = check_text(reason, field="reason", max_length=200)
    if not user.is_staff:
        raise Conflict(gettext_noop("%(email)s is not an operator account"), email=user.email)
    before = role_of(user)
    if before == role:
        return False
    if before == ADMINISTRATEUR and user.is_active and not other_administrators(user):
        raise Conflict(
            gettext_noop("%(email)s is the last administrator: give another account that role first"),
            email=user.email,
        )
    user.groups.remove(*Group.objects.filter(name__in=[r.group for r in ROLES]))
    user.groups.add(Group.objects.get(name=role.group))
    for cache in ("_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    details = {"role": role.key, "previous": before.key if before else ""}
    if reason:
        details["reason"] = reason
    record("account.role_changed", actor=actor, user=user, **details)
    return True


def other_administrators(user) -> bool:
    """Whether an active account other than ``user`` is an Administrateur."""
    return (
        User.objects.filter(is_active=True, is_staff=True, groups__name=ADMINISTRATEUR.group)
        .exclude(pk=user.pk)
        .exists()
    )
