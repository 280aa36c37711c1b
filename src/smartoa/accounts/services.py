"""Account services: creating accounts with a provisional password, and the roles that link accounts to
contracts. Callers own the transaction; every change is audited. (The contract-side policy of a manager change
— token revoked, IPs cleared — lives in ``contracts/services.py``, which calls these.)"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from smartoa.accounts.models import Role, User
from smartoa.audit.services import record
from smartoa.domain.errors import Conflict, InvalidInput
from smartoa.domain.text import check_text

MAX_EMAIL = User._meta.get_field("email").max_length or 254


def provisional_password() -> str:
    return secrets.token_urlsafe(12)


def check_email(email: str) -> str:
    """``email`` lower-cased, or InvalidInput when it is not an e-mail address a column can hold."""
    text = check_text(email, field="e-mail", max_length=MAX_EMAIL, required=True).lower()
    try:
        validate_email(text)
    except ValidationError:
        raise InvalidInput("%(email)r is not an e-mail address", email=text) from None
    return text


def create_account(email: str, *, actor: str, is_staff: bool = False, full_name: str = "") -> User:
    """Create an account with a provisional password (to change at first login), e-mailed to the user once the
    transaction commits. Conflict if the address already has an account."""
    email = check_email(email)
    full_name = check_text(full_name, field="name", max_length=User._meta.get_field("full_name").max_length or 200)
    if User.objects.filter(email=email).exists():
        raise Conflict("an account already exists for %(email)s", email=email)
    password = provisional_password()
    user = User.objects.create_user(
        email=email, password=password, must_change_password=True, is_staff=is_staff, full_name=full_name
    )
    record("account.created", actor=actor, user=user, staff=is_staff)
    send_login(user, password, reason="created")
    return user


def send_login(user: User, password: str, *, reason: str) -> None:
    """E-mail ``user`` (after commit, in the account's language) its login and provisional password: the account
    was ``created`` or its second factor ``reset`` by the operator."""
    context = {"user": user, "password": password, "reason": reason, "portal_url": f"{settings.BASE_URL}/"}
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = render_to_string("accounts/email/login_subject.txt", context).strip()
        body = render_to_string("accounts/email/login.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [user.email]))


def set_account_active(user: User, active: bool, *, actor: str) -> bool:
    """Activate or deactivate an account (a deactivated one cannot log in, and its open sessions stop at their
    next request); returns True if it changed."""
    if user.is_active == active:
        return False
    user.is_active = active
    user.save(update_fields=["is_active"])
    record("account.activated" if active else "account.deactivated", actor=actor, user=user)
    return True


def set_language(user: User, language: str, *, ip: str | None = None) -> None:
    """The language of the account's pages and e-mails (``fr`` or ``en``)."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput("unknown language %(language)r", language=str(language)[:10])
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
        record("account.language", actor=user.email, user=user, ip=ip, language=language)


def get_or_create_account(email: str, *, actor: str) -> tuple[User, bool]:
    """The account of ``email``, created (see ``create_account``) if there is none; (user, created)."""
    email = check_email(email)
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    return create_account(email, actor=actor), True


def grant_role(user: User, contract_pk: int, kind: str, *, actor: str) -> Role:
    """Give ``user`` the role ``kind`` on the contract (changing the kind of an existing role)."""
    if kind not in Role.Kind.values:
        raise InvalidInput("unknown role %(kind)r", kind=kind)
    role = Role.objects.filter(user=user, contract_id=contract_pk).first()
    if role is not None and role.kind == kind:
        return role
    if role is None:
        role = Role.objects.create(user=user, contract_id=contract_pk, kind=kind)
    else:
        role.kind = kind
        role.save(update_fields=["kind"])
    record("role.assigned", actor=actor, contract=contract_pk, user=user, kind=kind)
    return role


def revoke_role(role: Role, *, actor: str) -> None:
    """Remove ``role``: its account loses the contract at once."""
    record("role.revoked", actor=actor, contract=role.contract_id, user=role.user_id, kind=role.kind)
    role.delete()


def tell_holders_manager_changed(contract, *, new_email: str) -> None:
    """E-mail the contract's Producteurs (after commit) that its Gestionnaire changed."""
    holders = list(
        Role.objects.filter(contract=contract, kind=Role.Kind.HOLDER, user__is_active=True).values_list(
            "user__email", flat=True
        )
    )
    if not holders:
        return
    transaction.on_commit(
        lambda: send_mail(
            f"SMART OA — changement de gestionnaire du contrat {contract.contract_id}",
            (
                f"Le gestionnaire du contrat {contract.contract_id} est désormais {new_email}.\n"
                "Le jeton API a été révoqué et la liste des adresses IP vidée.\n"
            ),
            None,
            holders,
        )
    )
