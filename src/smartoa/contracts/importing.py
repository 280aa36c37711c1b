"""The contracts file: CSV parsing, checked field by field to what the columns hold (``check_contract``, which the
back office's contract form calls too), the dry run that says what an import would do (``plan_import``, nothing
written) and the all-or-nothing import that creates or updates contracts and their holder/manager accounts
(``save_contract``: one contract, as the form saves it). Callers own the transaction."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_noop

from smartoa.accounts.addresses import check_email
from smartoa.accounts.models import Role, User
from smartoa.accounts.services import create_accounts
from smartoa.audit.services import record_many
from smartoa.contracts.models import Contract, PowerUnit, Sector
from smartoa.contracts.services import assign_role, contracts_by_id
from smartoa.core.sql import chunks
from smartoa.domain.errors import InvalidInput, UserError, at_most
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
the message lists the problems of every bad line by number. Example:

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


@dataclass(frozen=True)
class ContractUpdate:
    """An existing contract the file updates, and which of its fields would change (none: left as it is)."""

    contract_id: str
    changed: tuple[str, ...]


@dataclass(frozen=True)
class ManagerChange:
    """A contract whose Gestionnaire the file replaces: its token is revoked and its IPs cleared."""

    contract_id: str
    old_email: str
    new_email: str


@dataclass
class ImportPlan:
    """What ``import_contracts`` would do with the rows, found without writing anything: the contracts created
    and updated, the accounts created (and e-mailed their login), the managers replaced."""

    created: list[str] = field(default_factory=list)
    updated: list[ContractUpdate] = field(default_factory=list)
    accounts_created: list[str] = field(default_factory=list)
    managers_replaced: list[ManagerChange] = field(default_factory=list)

    def fingerprint(self) -> str:
        """A digest of the plan: a dry run shown to an operator and the import confirmed after it must agree."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


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
        raise InvalidInput(gettext_noop("installed_power %(value)r is not a number"), value=text[:40]) from None
    if power <= 0:
        raise InvalidInput(gettext_noop("installed_power %(value)s must be positive"), value=raw)
    if power >= MAX_POWER:
        raise InvalidInput(gettext_noop("installed_power %(value)s is not below %(max)s"), value=raw, max=MAX_POWER)
    if power != power.quantize(Decimal(1).scaleb(-_POWER.decimal_places)):
        raise InvalidInput(gettext_noop("installed_power %(value)s has more than 3 decimals"), value=raw)
    return power.quantize(Decimal(1).scaleb(-_POWER.decimal_places))


def check_contract(values: dict[str, str]) -> tuple[ContractRow | None, dict[str, UserError]]:
    """One contract's fields as the contracts file's columns or the back office's form give them (text), checked:
    the row ready to save, or the problem of each bad field, by column name (nothing is written here)."""
    problems: dict[str, UserError] = {}

    def check(name: str, fn, *args, label: str = "", **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            problems[name] = (
                InvalidInput(gettext_noop("%(field)s: %(problem)s"), field=label, problem=exc) if label else exc
            )
            return None

    cid = values.get("contract_id", "")
    if not is_contract_id(cid):
        problems["contract_id"] = InvalidInput(
            gettext_noop("contract_id %(value)r must be 3-32 upper-case letters and digits"), value=cid[:40]
        )
    name = check("name", check_text, values.get("name", ""), field="name", max_length=_limit("name"), required=True)
    network_id = check(
        "network_id", check_text, values.get("network_id", ""), field="network_id", max_length=_limit("network_id")
    )
    sector = values.get("sector", "")
    if sector not in Sector.values:
        problems["sector"] = InvalidInput(
            gettext_noop("sector %(value)r is not one of %(sectors)s"),
            value=sector[:40],
            sectors=", ".join(Sector.values),
        )
    unit = values.get("power_unit", "")
    if unit not in PowerUnit.values:
        problems["power_unit"] = InvalidInput(gettext_noop("power_unit %(value)r is not MW or MWc"), value=unit[:40])
    power = check("installed_power", parse_power, values.get("installed_power", ""))
    holder_email = values.get("holder_email", "")
    holder = check("holder_email", check_email, holder_email, label="holder_email") if holder_email else None
    if not holder_email:
        problems["holder_email"] = InvalidInput(gettext_noop("holder_email is empty"))
    manager_email = values.get("manager_email", "")
    manager = check("manager_email", check_email, manager_email, label="manager_email") if manager_email else ""
    if problems or name is None or power is None or holder is None:
        return None, problems
    row = ContractRow(
        line=0,
        contract_id=cid,
        name=name,
        sector=sector,
        installed_power=power,
        power_unit=unit,
        holder_email=holder,
        manager_email=manager or "",
        network_id=network_id or "",
    )
    return row, {}


def _row(values: dict[str, str], seen: dict[str, int], line: int) -> ContractRow | list[UserError]:
    """One checked line of the file (its contract id not already on an earlier line), or every problem of it."""
    row, problems = check_contract(values)
    cid = values["contract_id"]
    if "contract_id" not in problems:
        if cid in seen:
            duplicate = InvalidInput(
                gettext_noop("contract_id %(value)s already on line %(line)s"), value=cid, line=seen[cid]
            )
            problems, row = {"contract_id": duplicate, **problems}, None
        else:
            seen[cid] = line
    if row is None:
        return list(problems.values())  # in the columns' order
    row.line = line
    return row


def parse_contracts_csv(text: str) -> list[ContractRow]:
    """Parse and check the whole file; InvalidInput naming every problem of every bad line, one per line (nothing
    is written here)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    errors: list[UserError] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise InvalidInput(gettext_noop("missing columns: %(columns)s"), columns=", ".join(missing))
        rows: list[ContractRow] = []
        seen: dict[str, int] = {}
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                problem = InvalidInput(
                    gettext_noop("the header has %(columns)s fields, this line %(count)s"),
                    columns=len(header),
                    count=len(cells),
                )
                errors.append(InvalidInput(gettext_noop("line %(line)s: %(problem)s"), line=line, problem=problem))
                continue
            values = {name: cell.strip() for name, cell in zip(header, cells, strict=True) if name}
            row = _row(values, seen, line)
            if isinstance(row, ContractRow):
                rows.append(row)
            else:
                errors.extend(
                    InvalidInput(gettext_noop("line %(line)s: %(problem)s"), line=line, problem=problem)
                    for problem in row
                )
    except csv.Error as exc:
        raise InvalidInput(
            gettext_noop("line %(line)s: not readable as CSV: %(problem)s"), line=reader.line_num, problem=str(exc)
        ) from None
    if errors:
        raise InvalidInput(
            gettext_noop("the file was not imported:\n%(problems)s"), problems=at_most(errors, MAX_ERRORS)
        )
    if not rows:
        raise InvalidInput(gettext_noop("the file has no contract line"))
    return rows


IMPORTED_FIELDS = ("name", "sector", "installed_power", "power_unit", "network_id")


def plan_import(rows: list[ContractRow]) -> ImportPlan:
    """The dry run of ``import_contracts(rows)``: what it would create, update and replace. Reads only."""
    plan = ImportPlan()
    existing = contracts_by_id(r.contract_id for r in rows)
    emails = sorted({e for r in rows for e in (r.holder_email, r.manager_email) if e})
    known: set[str] = set()
    for some_emails in chunks(emails):
        known.update(User.objects.filter(email__in=some_emails).values_list("email", flat=True))
    managers: dict[int, str] = {}
    for some_pks in chunks(sorted(c.pk for c in existing.values())):
        roles = Role.objects.filter(contract_id__in=some_pks, kind=Role.Kind.MANAGER)
        managers.update(roles.values_list("contract_id", "user__email"))
    for row in rows:
        found = existing.get(row.contract_id)
        if found is None:
            plan.created.append(row.contract_id)
        else:
            changed = tuple(name for name in IMPORTED_FIELDS if getattr(found, name) != getattr(row, name))
            plan.updated.append(ContractUpdate(row.contract_id, changed))
            old = managers.get(found.pk)
            if row.manager_email and old and old != row.manager_email:
                plan.managers_replaced.append(ManagerChange(row.contract_id, old, row.manager_email))
        for email in (row.holder_email, row.manager_email):
            if email and email not in known:
                known.add(email)
                plan.accounts_created.append(email)
    return plan


def import_contracts(rows: list[ContractRow], *, actor: str) -> ImportSummary:
    """Create or update contracts and their holder/manager accounts (all or nothing: the caller's
    transaction). New accounts are e-mailed their login after commit.

    The common case of a first import — new contracts, their accounts and roles — is written in bulk (an import of
    10,000 contracts with their accounts takes seconds); an update of an existing contract, and a row naming the
    same address as holder and manager, go through the per-contract services. Both write the same rows, audit
    events and e-mails."""
    summary = ImportSummary()
    existing = contracts_by_id(r.contract_id for r in rows)
    new_rows = [row for row in rows if row.contract_id not in existing]
    created = Contract.objects.bulk_create(
        [Contract(contract_id=row.contract_id, **_fields(row)) for row in new_rows], batch_size=1000
    )
    contracts = {**existing, **{c.contract_id: c for c in created}}
    users = _accounts(rows, actor=actor, summary=summary)
    roles: list[Role] = []
    for row in rows:
        contract = contracts[row.contract_id]
        if row.contract_id in existing:
            for name, value in _fields(row).items():
                setattr(contract, name, value)
            contract.save(update_fields=[*IMPORTED_FIELDS, "updated_at"])
            summary.updated.append(row.contract_id)
        else:
            summary.created.append(row.contract_id)
        if row.contract_id in existing or row.holder_email == row.manager_email:
            for email, kind in ((row.holder_email, Role.Kind.HOLDER), (row.manager_email, Role.Kind.MANAGER)):
                if email:
                    assign_role(contract, email, kind, actor=actor)
            continue
        roles.append(Role(user=users[row.holder_email], contract=contract, kind=Role.Kind.HOLDER))
        if row.manager_email:
            roles.append(Role(user=users[row.manager_email], contract=contract, kind=Role.Kind.MANAGER))
    Role.objects.bulk_create(roles, batch_size=1000)
    record_many(
        "role.assigned", [{"contract": r.contract_id, "user": r.user_id, "kind": r.kind} for r in roles], actor=actor
    )
    record_many(
        "contract.imported",
        [{"contract": contracts[row.contract_id], "created": row.contract_id not in existing} for row in rows],
        actor=actor,
    )
    return summary


def save_contract(row: ContractRow, *, actor: str) -> ImportSummary:
    """Create or update one contract and its holder/manager accounts, as one line of the contracts file (the same
    writes, audit events and e-mails: a new address gets an account and its login by e-mail; a different manager
    replaces the current one). The caller's transaction."""
    return import_contracts([row], actor=actor)


def _fields(row: ContractRow) -> dict:
    return {name: getattr(row, name) for name in IMPORTED_FIELDS}


def _accounts(rows: list[ContractRow], *, actor: str, summary: ImportSummary) -> dict[str, User]:
    """The accounts the rows name, by e-mail: those missing are created (and e-mailed their login)."""
    emails = list(dict.fromkeys(e for row in rows for e in (row.holder_email, row.manager_email) if e))
    users: dict[str, User] = {}
    for part in chunks(sorted(emails)):
        users.update((u.email, u) for u in User.objects.filter(email__in=part))
    missing = [email for email in emails if email not in users]
    users.update((u.email, u) for u in create_accounts(missing, actor=actor))
    summary.accounts_created.extend(missing)
    return users
