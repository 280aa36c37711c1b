"""Account services: creating accounts with a provisional password, and the roles that link accounts to
contracts. Callers own the transaction; every change is audited. (The contract-side policy of a manager change
— token revoked, IPs cleared — lives in ``contracts/services.py``, which calls these.)"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils.translation import gettext_noop

from smartoa.accounts.addresses import check_email
from smartoa.accounts.hashers import PROVISIONAL
from smartoa.accounts.models import AccountSession, Role, User
from smartoa.accounts.roles import OperatorRole
from smartoa.audit.services import record, record_many
from smartoa.core.clock import now
from smartoa.domain.errors import Conflict, InvalidInput
from smartoa.domain.text import check_text
from smartoa.notifications import outbox

PROVISIONAL_FIELDS = ["password", "must_change_password", "provisional_until"]


def give_provisional_password(user: User) -> str:
    """Set a new provisional password on ``user`` (not saved: ``PROVISIONAL_FIELDS``; to change at the first login,
    within SMARTOA_PROVISIONAL_PASSWORD_DAYS) and return it in plain text, for the login e-mail. It is random
    (96 bits), hence hashed with one salted round (``accounts/hashers.py``)."""
    password = secrets.token_urlsafe(12)
    user.password = make_password(password, hasher=PROVISIONAL)
    user.must_change_password = True
    user.provisional_until = now() + timedelta(days=settings.SMARTOA_PROVISIONAL_PASSWORD_DAYS)
    return password


def provisional_expired(user: User) -> bool:
    """Whether ``user``'s password is a provisional one whose time ran out (the first login is refused; the
    forgotten-password link gives a new password)."""
    until = user.provisional_until
    return user.must_change_password and until is not None and now() >= until


def create_account(
    email: str, *, actor: str, role: OperatorRole | None = None, full_name: str = "", send_login: bool = True
) -> User:
    """Create an account with a provisional password (to change at first login), e-mailed to the user through the
    outbox (sent once the transaction commits; ``send_login=False`` for a caller that sets the password itself,
    as the demo does, so that no e-mail carries a password that does not work). With a ``role``, an operator's
    account in that role (``accounts/roles.py``); without, a producer-side account. Conflict if the address
    already has an account."""
    email = check_email(email)
    full_name = check_text(full_name, field="name", max_length=User._meta.get_field("full_name").max_length or 200)
    if User.objects.filter(email=email).exists():
        raise Conflict(gettext_noop("an account already exists for %(email)s"), email=email)
    user = User(email=email, is_staff=role is not None, full_name=full_name)
    password = give_provisional_password(user)
    user.save()
    if role is not None:
        user.groups.add(Group.objects.get(name=role.group))
    record("account.created", actor=actor, user=user, staff=role is not None, role=role.key if role else "")
    if send_login:
        outbox.login_email(user, password, reason="created")
    return user


def new_provisional_password(user: User, *, actor: str) -> str:
    """Give ``user`` a new provisional password (its first login starts again), e-mail it (outbox) and return it
    (for the demo, which prints it beside the e-mail)."""
    password = give_provisional_password(user)
    user.save(update_fields=PROVISIONAL_FIELDS)
    record("account.provisional_password", actor=actor, user=user)
    outbox.login_email(user, password, reason="created")
    return password


def create_accounts(emails: list[str], *, actor: str) -> list[User]:
    """``create_account`` for many addresses at once (checked, lower-cased, none of them taken: the caller found
    them missing), in a few inserts: the same accounts, audit events and login e-mails."""
    users, passwords = [], []
    for email in emails:
        user = User(email=check_email(email))
        passwords.append(give_provisional_password(user))
        users.append(user)
    User.objects.bulk_create(users, batch_size=1000)
    record_many("account.created", [{"user": user, "staff": False} for user in users], actor=actor)
    outbox.login_emails([(user, password) for user, password in zip(users, passwords, strict=True)])
    return users


def send_login(user: User, password: str, *, reason: str) -> None:
    """E-mail ``user`` (through the outbox, in the account's language) its login and provisional password: the
    account was ``created`` or its second factor ``reset`` by the operator."""
    outbox.login_email(user, password, reason=reason)


def set_account_active(user: User, active: bool, *, actor: str) -> bool:
    """Activate or deactivate an account (a deactivated one cannot log in, and its open sessions stop at their
    next request); returns True if it changed."""
    if user.is_active == active:
        return False
    user.is_active = active
    user.save(update_fields=["is_active"])
    record("account.activated" if active else "account.deactivated", actor=actor, user=user)
    return True


def end_other_sessions(user: User, *, keep: str | None, ip: str | None) -> int:
    """End every session of ``user`` except the one whose key is ``keep`` (the caller's): their next request finds
    itself signed out. Returns how many were ended; audited when there were any."""
    ended, _ = AccountSession.objects.filter(user=user).exclude(session_key=keep).delete()
    if ended:
        record("account.sessions_ended", actor=user.email, user=user, ip=ip, count=ended)
    return ended


def set_language(user: User, language: str, *, ip: str | None = None) -> None:
    """The language of the account's pages and e-mails (``fr`` or ``en``)."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(gettext_noop("unknown language %(language)r"), language=str(language)[:10])
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
        raise InvalidInput(gettext_noop("unknown role %(kind)r"), kind=kind)
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
    """E-mail the contract's Producteurs (through the outbox) that its Gestionnaire changed."""
    outbox.manager_changed(contract, new_email=new_email)
