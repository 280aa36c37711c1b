"""``smartoa contracts import FILE.csv``: create or update contracts and their accounts, all or nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from smartoa.contracts.services import ContractError, import_contracts, parse_contracts_csv
from smartoa.core.management.base import CLI_ACTOR, read_text


class Command(BaseCommand):
    help = "Manage contracts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="create or update contracts and accounts from a CSV file")
        imp.add_argument("file")

    def handle(self, *args, action, file, **options):
        try:
            rows = parse_contracts_csv(read_text(file))
            with transaction.atomic():
                summary = import_contracts(rows, actor=CLI_ACTOR)
        except ContractError as exc:
            raise CommandError(f"{file}: {exc}") from None
        self.stdout.write(
            f"{len(summary.created)} contract(s) created, {len(summary.updated)} updated, "
            f"{len(summary.accounts_created)} account(s) created"
        )
