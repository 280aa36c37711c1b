"""``smartoa compliance run --month YYYY-MM``: compute (again) the month's compliance, in one transaction."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from smartoa.billing.services import BillingError, run_compliance
from smartoa.core.management.base import CLI_ACTOR
from smartoa.domain.curves import parse_month


class Command(BaseCommand):
    help = "Compliance of realised curves with consignes."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="compute the month's compliance (replaces its previous results)")
        run.add_argument("--month", required=True, help="YYYY-MM")

    def handle(self, *args, action, month, **options):
        try:
            first = parse_month(month)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        started = time.perf_counter()
        try:
            with transaction.atomic():
                run = run_compliance(first, actor=CLI_ACTOR)
        except BillingError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{first:%Y-%m}: {run.contracts} contract(s), {run.episodes} episode(s) checked "
            f"in {time.perf_counter() - started:.1f} s"
        )
