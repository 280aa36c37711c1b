"""``smartoa ips add|remove|list CONTRACT_ID [IP…]``: a contract's allowed IPs, changed all or nothing."""

from django.db import transaction

from smartoa.contracts.services import add_ips, allowed_ips, get_contract, remove_ips
from smartoa.core.management.base import CLI_ACTOR, ActionCommand

RULES = """\
Only individual public (global unicast) IPv4 or IPv6 addresses can be declared: no range (a.b.c.d/24), no host
name, no zone id, and no private, loopback, link-local, multicast, broadcast, documentation or reserved
address. In production an API call from an undeclared address is refused (403); removing an address cuts that
machine off at once."""


class Command(ActionCommand):
    help = "Manage the IP addresses allowed to call the API for a contract."
    epilog = RULES

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (("add", "allow addresses"), ("remove", "remove addresses")):
            p = sub.add_parser(name, help=text)
            p.add_argument("contract_id")
            p.add_argument("ips", nargs="+")
        listing = sub.add_parser("list", help="print the contract's allowed addresses, one per line")
        listing.add_argument("contract_id")

    def do_add(self, contract_id, ips, **options):
        with transaction.atomic():
            added = add_ips(get_contract(contract_id), ips, actor=CLI_ACTOR)
        self.stdout.write(f"{contract_id}: {len(added)} address(es) added" + (f": {', '.join(added)}" if added else ""))

    def do_remove(self, contract_id, ips, **options):
        with transaction.atomic():
            removed = remove_ips(get_contract(contract_id), ips, actor=CLI_ACTOR)
        self.stdout.write(f"{contract_id}: {len(removed)} address(es) removed: {', '.join(removed)}")

    def do_list(self, contract_id, **options):
        addresses = allowed_ips(get_contract(contract_id))
        if not addresses:
            self.stderr.write(f"{contract_id}: no allowed address")
        for address in addresses:
            self.stdout.write(address)
