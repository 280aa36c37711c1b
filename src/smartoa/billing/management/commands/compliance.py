"""``smartoa compliance run --month YYYY-MM``: compute (again) the month's compliance in this process (the same
request and refusals as the back office's queued runs; the results written in one transaction)."""

import time

from smartoa.billing.requests import run_now
from smartoa.core.management.base import CLI_ACTOR, ActionCommand
from smartoa.domain.curves import parse_month


class Command(ActionCommand):
    help = "Compliance of realised curves with consignes."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="compute the month's compliance (replaces its previous results)")
        run.add_argument("--month", required=True, help="YYYY-MM")

    def do_run(self, month, **options):
        first = parse_month(month)
        started = time.perf_counter()
        run = run_now(first, actor=CLI_ACTOR).run
        self.stdout.write(
            f"{first:%Y-%m}: {run.contracts} contract(s), {run.episodes} episode(s) checked "
            f"in {time.perf_counter() - started:.1f} s"
        )
