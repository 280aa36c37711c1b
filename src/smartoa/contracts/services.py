"""Contract services: import, eligibility, allowed IPs and API tokens. Callers own the transaction."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from smartoa.audit.services import record
from smartoa.contracts.ips import InvalidAddress, normalize_ip
from smartoa.contracts.models import (
    CONTRACT_ID_PATTERN,
    AllowedIP,
    ApiToken,
    Contract,
    EligibilityRule,
    PowerUnit,
    Sector,
)
from smartoa.contracts.tokens import hash_token, new_token
from smartoa.core.clock import now


class ContractError(ValueError):
    """Bad input for a contract operation; the message is meant for the user."""


def get_contract(contract_id: str) -> Contract:
    try:
        return Contract.objects.get(contract_id=contract_id)
    except Contract.DoesNotExist:
        raise ContractError(f"unknown contract {contract_id!r}") from None


# --- tokens -----------------------------------------------------------------------------------------------


def issue_token(contract: Contract, *, actor: str, ip: str | None = None) -> tuple[str, ApiToken]:
    """Revoke the contract's active token (if any) and create a new one. Returns the plain token (shown once)."""
    moment = now()
    revoked = ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).update(revoked_at=moment)
    plain = new_token()
    token = ApiToken.objects.create(
        contract=contract,
        token_hash=hash_token(plain),
        prefix=plain[:10],
        created_at=moment,
        expires_at=moment + timedelta(days=settings.SMARTOA_TOKEN_LIFETIME_DAYS),
        created_by=actor,
    )
    record("token.issued", actor=actor, contract=contract, ip=ip, prefix=token.prefix, revoked_previous=revoked)
    return plain, token


def revoke_tokens(contract: Contract, *, actor: str, ip: str | None = None) -> int:
    """Revoke every active token of the contract; returns how many."""
    count = ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).update(revoked_at=now())
    if count:
        record("token.revoked", actor=actor, contract=contract, ip=ip, count=count)
    return count


# --- allowed IPs ------------------------------------------------------------------------------------------


def _normalized(addresses: list[str]) -> list[str]:
    if not addresses:
        raise ContractError("no IP address given")
    out = []
    for text in addresses:
        try:
            out.append(normalize_ip(text))
        except InvalidAddress as exc:
            raise ContractError(str(exc)) from None
    return list(dict.fromkeys(out))


def add_ips(contract: Contract, addresses: list[str], *, actor: str) -> list[str]:
    """Allow the given addresses (all valid, or none added). Returns those newly added."""
    wanted = _normalized(addresses)
    existing = set(AllowedIP.objects.filter(contract=contract, address__in=wanted).values_list("address", flat=True))
    new = [a for a in wanted if a not in existing]
    AllowedIP.objects.bulk_create([AllowedIP(contract=contract, address=a) for a in new])
    if new:
        record("ip.added", actor=actor, contract=contract, addresses=new)
    return new


def remove_ips(contract: Contract, addresses: list[str], *, actor: str) -> list[str]:
    """Remove the given addresses; all must be on the list, or nothing is removed."""
    wanted = _normalized(addresses)
    existing = set(AllowedIP.objects.filter(contract=contract, address__in=wanted).values_list("address", flat=True))
    missing = [a for a in wanted if a not in existing]
    if missing:
        raise ContractError(f"{contract.contract_id}: not on the allowed list: {', '.join(missing)}")
    AllowedIP.objects.filter(contract=contract, address__in=wanted).delete()
    record("ip.removed", actor=actor, contract=contract, addresses=wanted)
    return wanted


# --- eligibility ------------------------------------------------------------------------------------------


def eligibility_rules_on(day: date) -> dict[str, EligibilityRule]:
    """The rule in force on ``day`` for each sector (latest effective_from not after the day)."""
    rules: dict[str, EligibilityRule] = {}
    for rule in EligibilityRule.objects.filter(effective_from__lte=day).order_by("effective_from"):
        rules[rule.sector] = rule
    return rules


def is_eligible(contract: Contract, day: date, rules: dict[str, EligibilityRule] | None = None) -> bool:
    rules = eligibility_rules_on(day) if rules is None else rules
    rule = rules.get(contract.sector)
    return contract.active and rule is not None and rule.admits(contract.installed_power)


def eligible_contracts(day: date) -> list[Contract]:
    """Active contracts in scope on ``day``, ordered by id."""
    rules = eligibility_rules_on(day)
    return [c for c in Contract.objects.filter(active=True).order_by("contract_id") if is_eligible(c, day, rules)]


# --- import -----------------------------------------------------------------------------------------------

REQUIRED_COLUMNS = ("contract_id", "name", "sector", "installed_power", "power_unit", "holder_email")


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


def parse_contracts_csv(text: str) -> list[ContractRow]:
    """Parse and check the whole file; ContractError naming every bad line (nothing is written here)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ContractError(f"missing column(s): {', '.join(missing)}")
    reader.fieldnames = header
    rows, errors, seen = [], [], {}
    for line, raw in enumerate(reader, start=2):
        values = {k: (v or "").strip() for k, v in raw.items() if k}
        problems = []
        cid = values["contract_id"]
        if not re.match(CONTRACT_ID_PATTERN, cid):
            problems.append(f"contract_id {cid!r} must be 3-32 upper-case letters and digits")
        elif cid in seen:
            problems.append(f"contract_id {cid} already on line {seen[cid]}")
        seen.setdefault(cid, line)
        if not values["name"]:
            problems.append("name is empty")
        if values["sector"] not in Sector.values:
            problems.append(f"sector {values['sector']!r} is not one of {', '.join(Sector.values)}")
        if values["power_unit"] not in PowerUnit.values:
            problems.append(f"power_unit {values['power_unit']!r} is not MW or MWc")
        try:
            power = Decimal(values["installed_power"].replace(",", "."))
            if not power.is_finite() or power <= 0:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(f"installed_power {values['installed_power']!r} is not a positive number")
            power = Decimal(0)
        for column in ("holder_email", "manager_email"):
            if values.get(column):
                try:
                    validate_email(values[column])
                except ValidationError:
                    problems.append(f"{column} {values[column]!r} is not an e-mail address")
        if not values["holder_email"]:
            problems.append("holder_email is empty")
        if problems:
            errors.append(f"line {line}: " + "; ".join(problems))
            continue
        rows.append(
            ContractRow(
                line=line,
                contract_id=cid,
                name=values["name"],
                sector=values["sector"],
                installed_power=power,
                power_unit=values["power_unit"],
                holder_email=values["holder_email"].lower(),
                manager_email=values.get("manager_email", "").lower(),
                network_id=values.get("network_id", ""),
            )
        )
    if errors:
        raise ContractError("the file was not imported:\n" + "\n".join(errors))
    if not rows:
        raise ContractError("the file has no contract line")
    return rows


def import_contracts(rows: list[ContractRow], *, actor: str) -> ImportSummary:
    """Create or update contracts and their holder/manager accounts (caller wraps this in a transaction)."""
    from smartoa.accounts.services import assign_role

    summary = ImportSummary()
    for row in rows:
        contract, created = Contract.objects.update_or_create(
            contract_id=row.contract_id,
            defaults={
                "name": row.name,
                "sector": row.sector,
                "installed_power": row.installed_power,
                "power_unit": row.power_unit,
                "network_id": row.network_id,
            },
        )
        (summary.created if created else summary.updated).append(row.contract_id)
        for email, kind in ((row.holder_email, "holder"), (row.manager_email, "manager")):
            if email and assign_role(contract, email, kind, actor=actor):
                summary.accounts_created.append(email)
        record("contract.imported", actor=actor, contract=contract, created=created)
    return summary
