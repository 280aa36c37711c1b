"""``smartoa ips add|remove CONTRACT_ID IP [IP…]``: manage a contract's allowed IPs, all or nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from smartoa.contracts.services import ContractError, add_ips, get_contract, remove_ips
from smartoa.core.management.base import CLI_ACTOR


class Command(BaseCommand):
    help = "Manage the IP addresses allowed to call the API for a contract."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("add", "remove"):
            p = sub.add_parser(name)
            p.add_argument("contract_id")
            p.add_argument("ips", nargs="+")

    def handle(self, *args, action, contract_id, ips, **options):
        operation = add_ips if action == "add" else remove_ips
        try:
            with transaction.atomic():
                changed = operation(get_contract(contract_id), ips, actor=CLI_ACTOR)
        except ContractError as exc:
            raise CommandError(str(exc)) from None
        verb = "added" if action == "add" else "removed"
        self.stdout.write(
            f"{contract_id}: {len(changed)} address(es) {verb}" + (f": {', '.join(changed)}" if changed else "")
        )
