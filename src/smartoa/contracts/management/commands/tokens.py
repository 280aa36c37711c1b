"""``smartoa tokens issue CONTRACT_ID``: print a new token (last line), revoking the previous one."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from smartoa.contracts.services import ContractError, get_contract, issue_token
from smartoa.core.management.base import CLI_ACTOR


class Command(BaseCommand):
    help = "Manage API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="issue a new token for a contract (revokes the previous one)")
        issue.add_argument("contract_id")

    def handle(self, *args, action, contract_id, **options):
        try:
            with transaction.atomic():
                plain, token = issue_token(get_contract(contract_id), actor=CLI_ACTOR)
        except ContractError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(f"token for {contract_id}, valid until {token.expires_at:%Y-%m-%d %H:%M %Z}:")
        self.stdout.write(plain)
