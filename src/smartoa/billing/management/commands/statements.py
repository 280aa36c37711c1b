"""``smartoa statements --month YYYY-MM --format json|csv|xlsx --out DIR``: one file per contract."""

from pathlib import Path

from smartoa.billing.statements import build_statements, iter_statements, render_statement, statement_filename
from smartoa.core.management.base import Command as SmartOACommand
from smartoa.domain.curves import parse_month
from smartoa.domain.errors import InvalidInput, NotFound, gettext_noop
from smartoa.exports.writers import FORMATS


class Command(SmartOACommand):
    help = "Write the monthly billing elements, one file per contract."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--format", dest="fmt", choices=sorted(FORMATS), default="json")
        parser.add_argument("--out", required=True, help="output directory (created if needed)")
        parser.add_argument("--contract", action="append", help="only this contract (repeatable)")

    def handle(self, *args, month, fmt, out, contract, **options):
        first = parse_month(month)
        if contract:
            statements = build_statements(first, contract)
            if len(statements) != len(set(contract)):
                found = {s["contract_id"] for s in statements}
                raise NotFound(
                    gettext_noop("no result for %(ids)s in %(month)s"),
                    ids=", ".join(sorted(set(contract) - found)),
                    month=f"{first:%Y-%m}",
                )
        folder = Path(out)
        written = 0
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # The whole month: built and written a chunk of contracts at a time (memory bounded by a chunk).
            for statement in statements if contract else iter_statements(first):
                (folder / statement_filename(statement, fmt)).write_bytes(
                    render_statement(statement, fmt, for_people=False)
                )
                written += 1
        except OSError as exc:
            raise InvalidInput(
                gettext_noop("%(path)s: cannot write: %(problem)s"), path=out, problem=str(exc)
            ) from None
        self.stdout.write(f"{written} statement(s) written to {folder}")
