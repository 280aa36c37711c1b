"""Realised (or estimated producible) curve import: a CSV or Parquet file validated against the known
contracts (``metering.parsing``), stored per contract-month with its revisions (``metering.storage``), and
recorded in the audit log. Callers own the transaction; an import is all or nothing."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_noop

from smartoa.audit.services import record
from smartoa.contracts.models import Contract
from smartoa.metering.models import CurveImport, CurveKind
from smartoa.metering.parsing import CurveImportError, KnownContracts, parse_curves
from smartoa.metering.storage import store_curves


def known_contracts() -> KnownContracts:
    """Every contract a curve file may name, with the most energy it accepts in one step
    (``SMARTOA_CURVE_MAX_RATIO`` × the installed power's energy in 5 minutes)."""
    return KnownContracts.of(
        Contract.objects.values_list("contract_id", "pk", "installed_power"),
        max_ratio=settings.SMARTOA_CURVE_MAX_RATIO,
    )


def import_curves(source, *, source_name: str, actor: str, kind: str = CurveKind.REALISED) -> CurveImport:
    """Validate then store a curve file (a path, a binary file object or bytes), and record it in the audit
    log. All or nothing: CurveImportError (listing the bad rows) stores nothing."""
    if kind not in CurveKind.values:
        raise CurveImportError(gettext_noop("unknown curve kind %(kind)r"), kind=kind)
    parsed = parse_curves(source, known_contracts())
    imported = store_curves(parsed, kind=kind, source=source_name, actor=actor)
    record(
        "curves.imported",
        actor=actor,
        kind=kind,
        source=imported.source,
        rows=imported.rows,
        contract_days=imported.contract_days,
        revised_days=imported.revised_days,
        first_day=str(imported.first_day),
        last_day=str(imported.last_day),
        sha256=imported.sha256,
    )
    return imported
