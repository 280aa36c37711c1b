"""``smartoa contracts import FILE.csv``: create or update contracts and their accounts, all or nothing."""

from django.db import transaction

from smartoa.contracts.importing import FORMAT_HELP, import_contracts, parse_contracts_csv
from smartoa.core.management.base import CLI_ACTOR, ActionCommand, read_text


class Command(ActionCommand):
    help = "Manage contracts: import them (and their accounts) from a CSV file."
    epilog = FORMAT_HELP

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="create or update contracts and accounts from a CSV file")
        imp.add_argument("file")

    def do_import(self, file, **options):
        rows = parse_contracts_csv(read_text(file))
        with transaction.atomic():
            summary = import_contracts(rows, actor=CLI_ACTOR)
        self.stdout.write(
            f"{len(summary.created)} contract(s) created, {len(summary.updated)} updated, "
            f"{len(summary.accounts_created)} account(s) created"
        )
