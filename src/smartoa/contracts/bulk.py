"""API access of several contracts in one step, for an account that holds many (an aggregator): one address
added to (or removed from) the selected contracts, new tokens for them. Callers own the transaction: each call
is all or nothing. Every contract must be held by the acting account (a role on it), else nothing is done and
the refusal is the same whether the contract exists or not. Every change is audited per contract, with the
actor and the address.

Queries do not grow with the number of contracts beyond their ids in chunks of ``core.sql.CHUNK``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext_noop as _

from smartoa.accounts.models import Role
from smartoa.audit.services import record_many
from smartoa.contracts.ips import normalize_ip, parse_ip
from smartoa.contracts.models import AllowedIP, ApiToken, Contract
from smartoa.contracts.tokens import hash_token, new_token
from smartoa.core.clock import now
from smartoa.core.sql import chunks
from smartoa.domain.errors import InvalidInput, NotFound
from smartoa.domain.text import is_contract_id
from smartoa.notifications.eventlog import access_changed

MAX_SELECTION = 20_000  # more than any account holds; refused beyond, before any query


def held_contracts(user, contract_ids: Iterable[str]) -> list[Contract]:
    """The contracts named by ``contract_ids`` (duplicates ignored), by id, each held by ``user``. InvalidInput
    when none is named; NotFound, naming the first one, when any is malformed, unknown or not held by ``user``
    (the same refusal: ids cannot be probed)."""
    wanted = sorted({str(cid) for cid in contract_ids})
    if not wanted:
        raise InvalidInput(_("no contract selected"))
    if len(wanted) > MAX_SELECTION:
        raise InvalidInput(_("too many contracts selected (at most %(limit)s)"), limit=MAX_SELECTION)
    bad = next((cid for cid in wanted if not is_contract_id(cid)), None)
    found: dict[str, Contract] = {}
    if bad is None:
        for part in chunks(wanted):
            roles = Role.objects.filter(user=user, contract__contract_id__in=part).select_related("contract")
            found.update((role.contract.contract_id, role.contract) for role in roles)
        bad = next((cid for cid in wanted if cid not in found), None)
    if bad is not None:
        raise NotFound(_("no contract %(contract_id)s among the account's contracts"), contract_id=bad[:40])
    return [found[cid] for cid in wanted]


@dataclass(frozen=True)
class AddressChange:
    """What adding or removing ``address`` did: the contracts ``changed`` and those left as they were
    (``unchanged``: already allowed for an addition, absent for a removal), by id."""

    address: str
    changed: list[str]
    unchanged: list[str]


def _holding_address(contracts: list[Contract], address: str) -> set[int]:
    """The pks of ``contracts`` whose allowed list holds ``address``."""
    holding: set[int] = set()
    for part in chunks([c.pk for c in contracts]):
        rows = AllowedIP.objects.filter(contract_id__in=part, address=address).values_list("contract_id", flat=True)
        holding.update(rows)
    return holding


def contracts_with_address(contracts: list[Contract], address: str) -> AddressChange:
    """Which of ``contracts`` allow ``address`` (as written: an address stored under older rules counts):
    ``changed`` those that do, ``unchanged`` the others. Reads only (the removal's confirmation page)."""
    text = parse_ip(address).compressed
    holding = _holding_address(contracts, text)
    return AddressChange(
        text,
        [c.contract_id for c in contracts if c.pk in holding],
        [c.contract_id for c in contracts if c.pk not in holding],
    )


def add_address(user, contract_ids: Iterable[str], address: str, *, ip: str | None = None) -> AddressChange:
    """Allow the public ``address`` on each of the contracts (held by ``user``) that does not allow it yet.
    Refused, with nothing changed: an empty selection, a contract not held, an address that cannot be declared
    (``contracts.ips.normalize_ip``). Audited ``ip.added`` per contract changed."""
    text = normalize_ip(address)
    contracts = held_contracts(user, contract_ids)
    holding = _holding_address(contracts, text)
    new = [c for c in contracts if c.pk not in holding]
    AllowedIP.objects.bulk_create([AllowedIP(contract=c, address=text) for c in new], batch_size=1000)
    events = [{"contract": c, "user": user, "ip": ip, "addresses": [text], "bulk": True} for c in new]
    record_many("ip.added", events, actor=user.email)
    return AddressChange(text, [c.contract_id for c in new], [c.contract_id for c in contracts if c.pk in holding])


def remove_address(user, contract_ids: Iterable[str], address: str, *, ip: str | None = None) -> AddressChange:
    """Remove ``address`` from each of the contracts (held by ``user``) that allows it; their machines calling
    from it are refused at once. The contracts that do not allow it are left as they are (``unchanged``).
    Refused, with nothing changed: an empty selection, a contract not held, text that is not an IP address.
    Audited ``ip.removed`` per contract changed."""
    contracts = held_contracts(user, contract_ids)
    change = contracts_with_address(contracts, address)
    allowing = set(change.changed)
    removed = [c for c in contracts if c.contract_id in allowing]
    for part in chunks([c.pk for c in removed]):
        AllowedIP.objects.filter(contract_id__in=part, address=change.address).delete()
    access_changed([c.pk for c in removed], "ip.removed")
    events = [{"contract": c, "user": user, "ip": ip, "addresses": [change.address], "bulk": True} for c in removed]
    record_many("ip.removed", events, actor=user.email)
    return change


@dataclass(frozen=True)
class IssuedToken:
    """A new token, in plain text: shown once to the account, never stored (only its hash is)."""

    contract_id: str
    label: str
    plain: str
    expires_at: datetime
    replaced: bool  # the contract had an active token, revoked by this one


def issue_tokens(user, contract_ids: Iterable[str], *, ip: str | None = None) -> list[IssuedToken]:
    """A new token for each of the contracts (held by ``user``), revoking its active one at once, as
    ``contracts.services.issue_token`` does for one. Returns the plain tokens by contract id (shown once).
    Refused, with nothing changed: an empty selection, a contract not held. Audited ``token.issued`` per
    contract."""
    contracts = held_contracts(user, contract_ids)
    moment = now()
    expires = moment + timedelta(days=settings.SMARTOA_TOKEN_LIFETIME_DAYS)
    replaced: set[int] = set()
    for part in chunks([c.pk for c in contracts]):
        active = ApiToken.objects.filter(contract_id__in=part, revoked_at__isnull=True)
        replaced.update(active.values_list("contract_id", flat=True))
        active.update(revoked_at=moment)
    access_changed(replaced, "token.revoked")
    plains = {c.pk: new_token() for c in contracts}
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                contract=c,
                token_hash=hash_token(plains[c.pk]),
                prefix=plains[c.pk][:10],
                created_at=moment,
                expires_at=expires,
                created_by=user.email,
            )
            for c in contracts
        ],
        batch_size=1000,
    )
    events = [
        {
            "contract": c,
            "user": user,
            "ip": ip,
            "prefix": plains[c.pk][:10],
            "revoked_previous": int(c.pk in replaced),
            "bulk": True,
        }
        for c in contracts
    ]
    record_many("token.issued", events, actor=user.email)
    return [IssuedToken(c.contract_id, c.label, plains[c.pk], expires, c.pk in replaced) for c in contracts]
