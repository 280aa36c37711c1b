"""``smartoa curves import FILE [--kind realised|producible]``: import 5-minute curves, all or nothing."""

from pathlib import Path

from django.db import transaction

from smartoa.core.management import base
from smartoa.domain.errors import InvalidInput, NotFound, gettext_noop
from smartoa.metering.models import CurveKind
from smartoa.metering.services import import_curves


class Command(base.Command):
    help = "Import realised (or estimated producible) 5-minute curves."
    epilog = """\
curve file format:
  CSV with the header contract_id,start,energy_kwh (or the same columns in Parquet)
  contract_id  a known contract, e.g. BOA00001
  start        ISO 8601 local time with the Europe/Paris UTC offset of that instant,
               e.g. 2026-03-29T03:00:00+02:00 (Parquet may also use an aware timestamp column)
  energy_kwh   energy of the 5-minute step in kWh: >= 0 and at most SMARTOA_CURVE_MAX_RATIO
               (default 1.5, i.e. 150 %) x installed power (MW) x 1000 / 12
  Steps are 5 minutes in the convention commençante: the value at 12:00 covers 12:00-12:05.
  One row per contract and step. All or nothing: any bad row refuses the whole file, rows named.
  Importing again a step that has data creates a revision (the previous values are kept).

example:
  contract_id,start,energy_kwh
  BOA00001,2026-03-29T01:55:00+01:00,0.0
  BOA00001,2026-03-29T03:00:00+02:00,1.25
"""

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a CSV or Parquet file contract_id,start,energy_kwh")
        imp.add_argument("file")
        imp.add_argument("--kind", choices=CurveKind.values, default=CurveKind.REALISED)

    def handle(self, *args, action, file, kind, **options):
        path = Path(file)
        if not path.is_file():
            raise NotFound(gettext_noop("%(path)s: no such file"), path=file)
        try:
            with transaction.atomic():
                imported = import_curves(path, source_name=path.name, actor=base.CLI_ACTOR, kind=kind)
        except OSError as exc:
            raise InvalidInput(
                gettext_noop("%(path)s: cannot be read: %(problem)s"), path=file, problem=str(exc)
            ) from None
        self.stdout.write(
            f"{imported.rows} row(s) imported: {imported.contract_days} contract-day(s) "
            f"from {imported.first_day} to {imported.last_day}, {imported.revised_days} revised"
        )
