"""``smartoa operators``: the operators' accounts — create one in a role (audited; its login e-mailed like any new
account's: the way a buyer creates its first Administrateur), change an operator's role, list them. The roles and
what they allow are in ``core/permissions.py``."""

from django.db import transaction

from smartoa.accounts.models import User
from smartoa.accounts.roles import ROLES, role_named, roles_of, set_role
from smartoa.accounts.services import create_account
from smartoa.core.management.base import CLI_ACTOR, ActionCommand
from smartoa.domain.errors import NotFound, gettext_noop

ROLE_HELP = ", ".join(role.key for role in ROLES)


def operator(email: str) -> User:
    user = User.objects.filter(email=email.strip().lower(), is_staff=True).first()
    if user is None:
        raise NotFound(gettext_noop("no operator account %(email)s"), email=email[:100])
    return user


class Command(ActionCommand):
    help = "Operators' accounts: create one in a role (its login is e-mailed), change a role, list them."
    epilog = (
        "Roles: lecture (sees everything, writes nothing), operateur (runs the platform), administrateur\n"
        "(operateur, plus operators' accounts, their roles and second-factor resets)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create an operator's account; its login and password are e-mailed")
        create.add_argument("email")
        create.add_argument("--role", required=True, help=f"the operator's role ({ROLE_HELP})")
        create.add_argument("--name", default="", help="the person's name (optional)")
        role = sub.add_parser("role", help="change an operator's role (audited)")
        role.add_argument("email")
        role.add_argument("role", help=ROLE_HELP)
        role.add_argument("--reason", default="", help="why (kept in the audit log)")
        sub.add_parser("list", help="the operators' accounts: e-mail, role, state")

    def do_create(self, email, role, name, **options):
        with transaction.atomic():
            user = create_account(email, role=role_named(role), full_name=name, actor=CLI_ACTOR)
        self.stdout.write(f"{user.email}: operator account created ({role_named(role).group}); its login was e-mailed")

    def do_role(self, email, role, reason, **options):
        wanted = role_named(role)
        with transaction.atomic():
            changed = set_role(operator(email), wanted, actor=CLI_ACTOR, reason=reason)
        self.stdout.write(f"{email}: {'role set to' if changed else 'already has the role'} {wanted.group}")

    def do_list(self, **options):
        users = list(User.objects.filter(is_staff=True).order_by("email"))
        roles = roles_of(users)
        for user in users:
            role = roles[user.pk].group if user.pk in roles else "(no role)"
            state = "deactivated" if not user.is_active else "first login to do" if user.must_change_password else ""
            self.stdout.write(f"{user.email}\t{role}\t{state}".rstrip())
