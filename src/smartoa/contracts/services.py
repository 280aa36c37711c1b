"""Contract services: lookups, eligibility, allowed IPs, API tokens and the manager (Gestionnaire) change.
Callers own the transaction; every change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_noop as _

from smartoa.accounts import services as accounts
from smartoa.accounts.models import Role
from smartoa.audit.services import record
from smartoa.contracts.ips import normalize_ip, parse_ip
from smartoa.contracts.models import AllowedIP, ApiToken, Contract, EligibilityRule, Sector
from smartoa.contracts.tokens import hash_token, new_token
from smartoa.core.clock import now
from smartoa.core.sql import chunks
from smartoa.domain.calendar import check_day_range
from smartoa.domain.errors import Conflict, InvalidInput, NotFound
from smartoa.domain.text import check_text, is_contract_id
from smartoa.notifications.eventlog import access_changed
from smartoa.notifications.preferences import clear_addresses

# --- lookups ----------------------------------------------------------------------------------------------


def get_contract(contract_id: str) -> Contract:
    """The contract with this id; NotFound otherwise."""
    contract = Contract.objects.filter(contract_id=contract_id).first() if is_contract_id(contract_id) else None
    if contract is None:
        raise NotFound(_("unknown contract %(contract_id)r"), contract_id=str(contract_id)[:40])
    return contract


def contracts_by_id(contract_ids: Iterable[str]) -> dict[str, Contract]:
    """The contracts with these ids (any number of ids; malformed ids match nothing), keyed by id."""
    wanted = sorted({cid for cid in contract_ids if is_contract_id(cid)})
    found: dict[str, Contract] = {}
    for part in chunks(wanted):
        found.update((c.contract_id, c) for c in Contract.objects.filter(contract_id__in=part))
    return found


def set_active(contract: Contract, active: bool, *, actor: str) -> bool:
    """Activate or deactivate the contract; returns True if it changed. An inactive contract gets no consigne;
    deactivating it also revokes its API token and clears its allowed addresses (each audited), so that no
    machine keeps an access to an ended contract: a reactivated contract needs a new token and its addresses
    declared again."""
    if contract.active == active:
        return False
    contract.active = active
    contract.save(update_fields=["active", "updated_at"])
    record("contract.activated" if active else "contract.deactivated", actor=actor, contract=contract)
    if not active:
        access_changed([contract.pk], "contract.deactivated")
        revoke_tokens(contract, actor=actor)
        clear_ips(contract, actor=actor)
    return True


def set_display_name(contract: Contract, name: str, *, actor: str, ip: str | None = None) -> str:
    """The installation's name as its users want to see it in the portal (empty: the contract's own name)."""
    name = check_text(name, field="name", max_length=Contract._meta.get_field("display_name").max_length or 100)
    if name != contract.display_name:
        previous = contract.display_name
        contract.display_name = name
        contract.save(update_fields=["display_name", "updated_at"])
        record("contract.renamed", actor=actor, contract=contract, ip=ip, name=name, previous=previous)
    return name


# --- tokens -----------------------------------------------------------------------------------------------


def issue_token(contract: Contract, *, actor: str, ip: str | None = None) -> tuple[str, ApiToken]:
    """Revoke the contract's active token (if any) and create a new one. Returns the plain token (shown once)."""
    moment = now()
    revoked = ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).update(revoked_at=moment)
    if revoked:
        access_changed([contract.pk], "token.revoked")
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
        access_changed([contract.pk], "token.revoked")
    return count


def tokens_of(contract: Contract) -> list[ApiToken]:
    """The contract's tokens, newest first."""
    return list(ApiToken.objects.filter(contract=contract).order_by("-created_at", "-pk"))


def active_token_expiries(contract_pks: Iterable[int]) -> dict[int, datetime]:
    """The expiry of each contract's active token, for the contracts that have one (by contract pk)."""
    found: dict[int, datetime] = {}
    for part in chunks(sorted(set(contract_pks))):
        active = ApiToken.objects.filter(contract_id__in=part, revoked_at__isnull=True)
        found.update(active.values_list("contract_id", "expires_at"))
    return found


def token_state(token: ApiToken) -> str:
    """``active``, ``revoked`` or ``expired``."""
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= now() else "active"


# --- allowed IPs ------------------------------------------------------------------------------------------


def _normalized(addresses: list[str]) -> list[str]:
    if not addresses:
        raise InvalidInput(_("no IP address given"))
    return list(dict.fromkeys(normalize_ip(text) for text in addresses))


def allowed_ips(contract: Contract) -> list[str]:
    """The contract's allowed addresses, in the order they were added."""
    return list(AllowedIP.objects.filter(contract=contract).order_by("pk").values_list("address", flat=True))


def add_ips(contract: Contract, addresses: list[str], *, actor: str, ip: str | None = None) -> list[str]:
    """Allow the given public addresses (all valid, or none added). Returns those newly added."""
    wanted = _normalized(addresses)
    existing = set(AllowedIP.objects.filter(contract=contract, address__in=wanted).values_list("address", flat=True))
    new = [a for a in wanted if a not in existing]
    AllowedIP.objects.bulk_create([AllowedIP(contract=contract, address=a) for a in new])
    if new:
        record("ip.added", actor=actor, contract=contract, ip=ip, addresses=new)
    return new


def remove_ips(contract: Contract, addresses: list[str], *, actor: str, ip: str | None = None) -> list[str]:
    """Remove the given addresses; all must be on the list, or nothing is removed."""
    if not addresses:
        raise InvalidInput(_("no IP address given"))
    # As parsed, not as accepted today: an address stored under older rules can still be removed.
    wanted = list(dict.fromkeys(parse_ip(text).compressed for text in addresses))
    existing = set(AllowedIP.objects.filter(contract=contract, address__in=wanted).values_list("address", flat=True))
    missing = [a for a in wanted if a not in existing]
    if missing:
        raise NotFound(
            _("%(contract_id)s: not on the allowed list: %(addresses)s"),
            contract_id=contract.contract_id,
            addresses=", ".join(missing),
        )
    AllowedIP.objects.filter(contract=contract, address__in=wanted).delete()
    record("ip.removed", actor=actor, contract=contract, ip=ip, addresses=wanted)
    access_changed([contract.pk], "ip.removed")
    return wanted


def clear_ips(contract: Contract, *, actor: str) -> int:
    """Remove every allowed address of the contract; returns how many."""
    count, _ = AllowedIP.objects.filter(contract=contract).delete()
    if count:
        record("ip.cleared", actor=actor, contract=contract, count=count)
        access_changed([contract.pk], "ip.removed")
    return count


# --- roles: holder (Producteur) and manager (Gestionnaire) -------------------------------------------------


def assign_role(contract: Contract, email: str, kind: str, *, actor: str) -> bool:
    """Give the account ``email`` the role ``kind`` on ``contract``, creating the account (and e-mailing its
    login) if needed; returns True then. A new manager replaces the previous one (see ``change_manager``)."""
    user, created = accounts.get_or_create_account(email, actor=actor)
    if kind == Role.Kind.MANAGER:
        change_manager(contract, user, actor=actor)
    else:
        accounts.grant_role(user, contract.pk, kind, actor=actor)
    return created


def change_manager(contract: Contract, user, *, actor: str) -> bool:
    """Make ``user`` the contract's Gestionnaire (at most one per contract). When it replaces another one, the
    contract's token is revoked and its IP list and extra e-mail addresses cleared, so that the old manager's
    machines and mailboxes are cut off at once; the old manager loses the contract and the Producteurs are told
    by e-mail. Returns True if someone was replaced."""
    previous = Role.objects.filter(contract=contract, kind=Role.Kind.MANAGER).exclude(user=user).first()
    if previous is not None:
        old_email = previous.user.email
        accounts.revoke_role(previous, actor=actor)
        revoke_tokens(contract, actor=actor)
        clear_ips(contract, actor=actor)
        clear_addresses(contract, actor=actor)
        record("manager.changed", actor=actor, contract=contract, old=old_email, new=user.email)
        accounts.tell_holders_manager_changed(contract, new_email=user.email)
    accounts.grant_role(user, contract.pk, Role.Kind.MANAGER, actor=actor)
    return previous is not None


# --- eligibility ------------------------------------------------------------------------------------------


def eligibility_rules_on(day: date) -> dict[str, EligibilityRule]:
    """The rule in force on ``day`` for each sector (latest effective_from not after the day)."""
    rules: dict[str, EligibilityRule] = {}
    for rule in EligibilityRule.objects.filter(effective_from__lte=day).order_by("effective_from"):
        rules[rule.sector] = rule
    return rules


def is_eligible(contract: Contract, day: date, rules: dict[str, EligibilityRule] | None = None) -> bool:
    return eligibility(contract, day, rules) is None


class NotEligible(Conflict):
    """Why a contract is out of scope on a day (a reason shown to people, or a refusal)."""

    code = "not_eligible"


def eligibility(contract: Contract, day: date, rules: dict[str, EligibilityRule] | None = None) -> NotEligible | None:
    """None when the contract is in scope on ``day``, else the reason (``str()`` for machines, ``error_text`` for
    people)."""
    rules = eligibility_rules_on(day) if rules is None else rules
    if not contract.active:
        return NotEligible(_("contract inactive"))
    rule = rules.get(contract.sector)
    if rule is None:
        return NotEligible(
            _("no eligibility rule for the sector %(sector)s on %(day)s"), sector=Sector(contract.sector).label, day=day
        )
    if not rule.admits(contract.installed_power):
        return NotEligible(
            _("%(power)s %(unit)s is below the threshold of %(threshold)s"),
            power=contract.installed_power,
            unit=contract.power_unit,
            threshold=rule.min_power_mw,
        )
    return None


def add_eligibility_rule(
    *, sector: str, min_power_mw: Decimal, effective_from: date, source: str = "", actor: str
) -> EligibilityRule:
    """A new eligibility threshold for ``sector`` from ``effective_from`` on (rules are data with a date, never
    edited: a new threshold is a new rule). Conflict if the sector already has a rule from that day."""
    if sector not in Sector.values:
        raise InvalidInput(_("unknown sector %(sector)r"), sector=sector)
    if not min_power_mw.is_finite() or min_power_mw < 0 or min_power_mw >= Decimal("1e7"):
        raise InvalidInput(_("the minimum power must be between 0 and 10,000,000 MW"))
    check_day_range(effective_from)
    source = check_text(source, field="source", max_length=200)
    if EligibilityRule.objects.filter(sector=sector, effective_from=effective_from).exists():
        raise Conflict(_("%(sector)s already has a rule from %(day)s"), sector=sector, day=effective_from)
    rule = EligibilityRule.objects.create(
        sector=sector, min_power_mw=min_power_mw, effective_from=effective_from, source=source
    )
    record(
        "eligibility.rule_added",
        actor=actor,
        sector=sector,
        min_power_mw=str(min_power_mw),
        effective_from=effective_from.isoformat(),
        source=source,
    )
    return rule


def eligible_contracts(day: date) -> list[Contract]:
    """Active contracts in scope on ``day``, ordered by id."""
    rules = eligibility_rules_on(day)
    return [c for c in Contract.objects.filter(active=True).order_by("contract_id") if is_eligible(c, day, rules)]
