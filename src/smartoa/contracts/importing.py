"""The contracts file: CSV parsing, checked field by field to what the columns hold, and the all-or-nothing
import that creates or updates contracts and their holder/manager accounts. Callers own the transaction."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from smartoa.accounts.models import Role
from smartoa.accounts.services import check_email
from smartoa.audit.services import record
from smartoa.contracts.models import Contract, PowerUnit, Sector
from smartoa.contracts.services import assign_role, contracts_by_id
from smartoa.domain.errors import InvalidInput, UserError
from smartoa.domain.text import check_text, is_contract_id

REQUIRED_COLUMNS = ("contract_id", "name", "sector", "installed_power", "power_unit", "holder_email")
OPTIONAL_COLUMNS = ("manager_email", "network_id")
MAX_ERRORS = 50

FORMAT_HELP = """\
The contracts file: CSV, UTF-8, comma-separated, first line a header naming the columns (any order):

  contract_id      required  the buyer's contract id: 3 to 32 upper-case letters and digits (BOAXXXXX)
  name             required  the installation's name (at most 200 characters)
  sector           required  pv | wind_onshore | wind_offshore
  installed_power  required  MW or MWc, > 0, at most 3 decimals ("12,5" and "12.5" both read 12.5)
  power_unit       required  MW | MWc
  holder_email     required  the Producteur's account (created and e-mailed its login if new)
  manager_email    optional  the Gestionnaire's account; a different one replaces the current manager
                             (the contract's token is revoked and its IPs cleared)
  network_id       optional  the grid operator's id of the site (at most 64 characters)

Existing contracts (same contract_id) are updated. One bad line refuses the whole file (nothing written);
the message lists every bad line by number. Example:

  contract_id,name,sector,installed_power,power_unit,holder_email,manager_email,network_id
  BOA00001,Centrale de Beauce,pv,15,MWc,producteur@example.fr,,30001234567890
"""


@dataclass
class ContractRow:
    line: int
    contract_id: str
    name: str
    sector: str
    installed_power: Decimal
    power_unit: str
    holder_email: str
    manager_email: str = ""
    network_id: str = ""


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    accounts_created: list[str] = field(default_factory=list)


def _limit(name: str) -> int:
    return getattr(Contract._meta.get_field(name), "max_length", None) or 0


_POWER = Contract._meta.get_field("installed_power")
MAX_POWER = Decimal(10) ** (_POWER.max_digits - _POWER.decimal_places)  # exclusive: 10,000,000 MW


def parse_power(text: str) -> Decimal:
    """An installed power as the column holds it (> 0, below MAX_POWER, at most 3 decimals); InvalidInput."""
    raw = text.strip().replace(",", ".")
    try:
        if len(raw) > 32:
            raise InvalidOperation
        power = Decimal(raw)
        if not power.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise InvalidInput("installed_power %(value)r is not a number", value=text[:40]) from None
    if power <= 0:
        raise InvalidInput("installed_power %(value)s must be positive", value=raw)
    if power >= MAX_POWER:
        raise InvalidInput("installed_power %(value)s is not below %(max)s", value=raw, max=MAX_POWER)
    if power != power.quantize(Decimal(1).scaleb(-_POWER.decimal_places)):
        raise InvalidInput("installed_power %(value)s has more than 3 decimals", value=raw)
    return power.quantize(Decimal(1).scaleb(-_POWER.decimal_places))


def _row(line: int, values: dict[str, str], seen: dict[str, int]) -> ContractRow:
    """One checked line; InvalidInput listing every problem of the line."""
    problems = []

    def check(fn, *args, label: str = "", **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            problems.append(f"{label}: {exc}" if label else str(exc))
            return None

    cid = values["contract_id"]
    if not is_contract_id(cid):
        problems.append(f"contract_id {cid[:40]!r} must be 3-32 upper-case letters and digits")
    elif cid in seen:
        problems.append(f"contract_id {cid} already on line {seen[cid]}")
    else:
        seen[cid] = line
    name = check(check_text, values["name"], field="name", max_length=_limit("name"), required=True)
    network_id = check(check_text, values.get("network_id", ""), field="network_id", max_length=_limit("network_id"))
    if values["sector"] not in Sector.values:
        problems.append(f"sector {values['sector'][:40]!r} is not one of {', '.join(Sector.values)}")
    if values["power_unit"] not in PowerUnit.values:
        problems.append(f"power_unit {values['power_unit'][:40]!r} is not MW or MWc")
    power = check(parse_power, values["installed_power"])
    holder = check(check_email, values["holder_email"], label="holder_email") if values["holder_email"] else None
    if not values["holder_email"]:
        problems.append("holder_email is empty")
    manager = check(check_email, values["manager_email"], label="manager_email") if values.get("manager_email") else ""
    if problems or name is None or power is None or holder is None:
        raise InvalidInput("; ".join(problems))
    return ContractRow(
        line=line,
        contract_id=cid,
        name=name,
        sector=values["sector"],
        installed_power=power,
        power_unit=values["power_unit"],
        holder_email=holder,
        manager_email=manager or "",
        network_id=network_id or "",
    )


def parse_contracts_csv(text: str) -> list[ContractRow]:
    """Parse and check the whole file; InvalidInput naming every bad line (nothing is written here)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    errors: list[str] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise InvalidInput("missing column(s): %(columns)s", columns=", ".join(missing))
        rows: list[ContractRow] = []
        seen: dict[str, int] = {}
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                errors.append(f"line {line}: {len(cells)} fields, the header has {len(header)}")
                continue
            values = {name: cell.strip() for name, cell in zip(header, cells, strict=True) if name}
            try:
                rows.append(_row(line, values, seen))
            except InvalidInput as exc:
                errors.append(f"line {line}: {exc}")
    except csv.Error as exc:
        raise InvalidInput(
            "line %(line)s: not readable as CSV: %(problem)s", line=reader.line_num, problem=str(exc)
        ) from None
    if errors:
        more = f"\n… and {len(errors) - MAX_ERRORS} more" if len(errors) > MAX_ERRORS else ""
        raise InvalidInput("the file was not imported:\n" + "\n".join(errors[:MAX_ERRORS]) + more)
    if not rows:
        raise InvalidInput("the file has no contract line")
    return rows


def import_contracts(rows: list[ContractRow], *, actor: str) -> ImportSummary:
    """Create or update contracts and their holder/manager accounts (all or nothing: the caller's
    transaction). New accounts are e-mailed their login after commit."""
    summary = ImportSummary()
    existing = contracts_by_id(r.contract_id for r in rows)
    for row in rows:
        found = existing.get(row.contract_id)
        fields = {
            "name": row.name,
            "sector": row.sector,
            "installed_power": row.installed_power,
            "power_unit": row.power_unit,
            "network_id": row.network_id,
        }
        created = found is None
        if found is None:
            contract = Contract.objects.create(contract_id=row.contract_id, **fields)
        else:
            contract = found
            for name, value in fields.items():
                setattr(contract, name, value)
            contract.save(update_fields=[*fields, "updated_at"])
        (summary.created if created else summary.updated).append(row.contract_id)
        for email, kind in ((row.holder_email, Role.Kind.HOLDER), (row.manager_email, Role.Kind.MANAGER)):
            if email and assign_role(contract, email, kind, actor=actor):
                summary.accounts_created.append(email)
        record("contract.imported", actor=actor, contract=contract, created=created)
    return summary
