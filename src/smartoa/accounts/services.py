"""Account services: creating accounts with a provisional password, and roles on contracts."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from smartoa.accounts.models import Role, User
from smartoa.audit.services import record


def provisional_password() -> str:
    return secrets.token_urlsafe(12)


def create_account(email: str, *, actor: str) -> User:
    """Create an account with a provisional password, mailed to the user once the transaction commits."""
    password = provisional_password()
    user = User.objects.create_user(email=email, password=password, must_change_password=True)
    record("account.created", actor=actor, user=user)
    transaction.on_commit(
        lambda: send_mail(
            "SMART OA — vos identifiants / your login",
            (
                f"Bonjour,\n\nUn compte SMART OA a été créé pour vous.\nIdentifiant : {email}\n"
                f"Mot de passe provisoire : {password}\nPortail : {settings.BASE_URL}/\n\n"
                "À la première connexion, vous devrez changer ce mot de passe et activer un TOTP.\n"
            ),
            None,
            [email],
        )
    )
    return user


def assign_role(contract, email: str, kind: str, *, actor: str) -> bool:
    """Give ``email`` the role ``kind`` on ``contract``, creating the account if needed (returns True then).

    A new Gestionnaire replaces the previous one: the contract's token is revoked, its IP list cleared, the old
    Gestionnaire loses access at once and the Producteur is told by e-mail.
    """
    from smartoa.contracts.services import revoke_tokens

    user = User.objects.filter(email=email).first()
    created = user is None
    if created:
        user = create_account(email, actor=actor)
    current = Role.objects.filter(contract=contract, user=user).first()
    if current and current.kind == kind:
        return created
    if kind == Role.Kind.MANAGER:
        previous = Role.objects.filter(contract=contract, kind=Role.Kind.MANAGER).exclude(user=user).first()
        if previous:
            previous.delete()
            revoke_tokens(contract, actor=actor)
            contract.allowed_ips.all().delete()
            record("manager.changed", actor=actor, contract=contract, old=previous.user.email, new=email)
            holders = list(
                Role.objects.filter(contract=contract, kind=Role.Kind.HOLDER).values_list("user__email", flat=True)
            )
            if holders:
                transaction.on_commit(
                    lambda: send_mail(
                        f"SMART OA — changement de gestionnaire du contrat {contract.contract_id}",
                        (
                            f"Le gestionnaire du contrat {contract.contract_id} est désormais {email}.\n"
                            "Le jeton API a été révoqué et la liste des adresses IP vidée.\n"
                        ),
                        None,
                        holders,
                    )
                )
    if current:
        current.kind = kind
        current.save(update_fields=["kind"])
    else:
        Role.objects.create(user=user, contract=contract, kind=kind)
    record("role.assigned", actor=actor, contract=contract, user=user, kind=kind)
    return created
