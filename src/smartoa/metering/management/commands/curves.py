"""``smartoa curves import FILE [--kind realised|producible]``: import 5-minute curves, all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from smartoa.core.management.base import CLI_ACTOR
from smartoa.metering.models import CurveKind
from smartoa.metering.services import CurveImportError, import_curves


class Command(BaseCommand):
    help = "Import realised (or estimated producible) 5-minute curves."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a CSV or Parquet file contract_id,start,energy_kwh")
        imp.add_argument("file")
        imp.add_argument("--kind", choices=CurveKind.values, default=CurveKind.REALISED)

    def handle(self, *args, action, file, kind, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            with transaction.atomic():
                imported = import_curves(path, source_name=path.name, actor=CLI_ACTOR, kind=kind)
        except CurveImportError as exc:
            raise CommandError(f"{file}: {exc}") from None
        except OSError as exc:
            raise CommandError(f"{file}: cannot be read: {exc}") from None
        self.stdout.write(
            f"{imported.rows} row(s) imported: {imported.contract_days} contract-day(s) "
            f"from {imported.first_day} to {imported.last_day}, {imported.revised_days} revised"
        )
