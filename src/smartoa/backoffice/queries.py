"""Reads of the back-office pages, in a number of queries that does not grow with the number of contracts: the
acknowledgment board of a delivery day (counts by state, then the contracts, the ones still missing first) and
the contracts list (eligibility, accounts and roles, token expiry).

The board's scope is every contract eligible on the day (``contracts.eligibility``) plus every contract that has a
consigne that day; its states are ``domain.acknowledgment.Status``, computed in the SQL by their owner
(``consignes.queries.with_day_state``) so that the page can count, filter, order and paginate them there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django_otp.plugins.otp_totp.models import TOTPDevice

from smartoa.accounts.models import Role, User
from smartoa.accounts.roles import roles_of
from smartoa.consignes.deadlines import cutoff_for_hlar, hlar_for
from smartoa.consignes.models import Acknowledgment, Consigne, HlarOverride
from smartoa.consignes.queries import with_day_state
from smartoa.contracts.eligibility import eligible_on
from smartoa.contracts.models import Contract
from smartoa.contracts.services import active_token_expiries, eligibility, eligibility_rules_on
from smartoa.core.clock import now
from smartoa.core.formats import number_text
from smartoa.domain.acknowledgment import Status
from smartoa.domain.calendar import local_day_of
from smartoa.domain.deadlines import is_open

# The board's order: what still needs chasing first, acknowledged contracts last.
ORDER = (Status.MISSED, Status.VOIDED, Status.TO_DO, Status.NOT_PUBLISHED, Status.DONE)
RANK = {status: n for n, status in enumerate(ORDER)}
MISSING = (Status.MISSED, Status.VOIDED, Status.TO_DO)
SHOWN_IDS = 20


def tomorrow() -> date:
    """D+1 on the platform's clock: the delivery day an operator works on today."""
    return local_day_of(now()) + timedelta(days=1)


@dataclass(frozen=True)
class Deadlines:
    """A delivery day's HLAR (``override``: the row that postponed it, if any) and change deadline."""

    day: date
    hlar: datetime
    cutoff: datetime
    override: HlarOverride | None

    @property
    def locked(self) -> bool:
        return not is_open(now(), self.hlar)

    @property
    def changes_open(self) -> bool:
        return is_open(now(), self.cutoff)


def deadlines_of(day: date) -> Deadlines:
    """``day``'s deadlines and whether its HLAR was set by an operator (two queries)."""
    hlar = hlar_for(day)
    return Deadlines(day, hlar, cutoff_for_hlar(hlar), HlarOverride.objects.filter(delivery_day=day).first())


def board_contracts(day: date, *, locked: bool, state: Status | None = None) -> QuerySet[Any]:
    """The board's contracts for ``day`` (optionally of one ``state``), missing ones first then by id; each with
    ``version`` (current version number, None when not published), ``day_state`` (``consignes.queries
    .with_day_state``) and ``rank`` (its state's place in ORDER). ``locked``: HLAR has passed (what is not
    acknowledged is then missed). The board's scope: every contract eligible on the day (``contracts.eligibility``)
    and every contract that has a consigne that day."""
    query = with_day_state(Contract.objects.all(), day, locked=locked).filter(
        Q(version__isnull=False) | eligible_on(day)
    )
    ranks = [When(day_state=status.value, then=Value(n)) for status, n in RANK.items()]
    query = query.annotate(rank=Case(*ranks, output_field=IntegerField()))
    if state is not None:
        query = query.filter(day_state=state.value)
    return query.order_by("rank", "contract_id")


@dataclass(frozen=True)
class BoardSummary:
    """The day at a glance: deadlines, how many contracts are in each state, how many consignes have a stop."""

    deadlines: Deadlines
    counts: dict[Status, int]
    stops: int
    not_published: list[str] = field(default_factory=list)  # the first SHOWN_IDS ids

    @property
    def day(self) -> date:
        return self.deadlines.day

    @property
    def locked(self) -> bool:
        return self.deadlines.locked

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def published(self) -> int:
        return self.total - self.counts[Status.NOT_PUBLISHED]

    @property
    def missing(self) -> int:
        return sum(self.counts[s] for s in MISSING)

    def by_state(self) -> list[tuple[Status, int]]:
        """(state, count) of the states the day can be in now: "missed" only from HLAR on, "to do" and "voided"
        only before."""
        impossible = (Status.TO_DO, Status.VOIDED) if self.locked else (Status.MISSED,)
        return [(s, self.counts[s]) for s in ORDER if s not in impossible]


def board_summary(day: date) -> BoardSummary:
    """Deadlines and counts of ``day``'s board (a few queries, whatever the number of contracts)."""
    deadlines = deadlines_of(day)
    query = board_contracts(day, locked=deadlines.locked)
    counts = dict.fromkeys(ORDER, 0)
    for rank, count in query.order_by().values_list("rank").annotate(n=Count("pk")).values_list("rank", "n"):
        counts[ORDER[rank]] = count
    stops = Consigne.objects.filter(delivery_day=day, current_version__has_stop=True).count()
    waiting = []
    if counts[Status.NOT_PUBLISHED]:
        unpublished = query.filter(rank=RANK[Status.NOT_PUBLISHED])
        waiting = list(unpublished.values_list("contract_id", flat=True)[:SHOWN_IDS])
    return BoardSummary(deadlines, counts, stops, waiting)


def board_rows(day: date, contracts: Iterable[Contract], *, every_contract: bool = False) -> list[dict]:
    """The board's rows for ``contracts`` (from ``board_contracts``): state, versions, the latest acknowledgment
    (who, when, how) and the contract's accounts. Two queries, on these contracts' ids — or, for an export of the
    whole board (``every_contract``), on the whole day."""
    contracts = list(contracts)
    pks = None if every_contract else [c.pk for c in contracts]
    latest = _latest_acknowledgments(day, pks)
    accounts = _accounts(pks)
    rows = []
    for contract in contracts:
        ack = latest.get(contract.pk)
        rows.append(
            {
                "contract_id": contract.contract_id,
                "name": contract.label,
                "state": ORDER[contract.rank],  # type: ignore[attr-defined]  # annotated by board_contracts
                "version": contract.version,  # type: ignore[attr-defined]
                "acknowledged_version": ack[0] if ack else None,
                "acknowledged_at": ack[1] if ack else None,
                "acknowledged_by": ack[2] if ack else None,
                "channel": ack[3] if ack else None,
                "accounts": tuple(accounts.get(contract.pk, [])),
            }
        )
    return rows


def _latest_acknowledgments(day: date, pks: Sequence[int] | None) -> dict[int, tuple[int, datetime, str, str]]:
    query = Acknowledgment.objects.filter(consigne__delivery_day=day)
    if pks is not None:
        query = query.filter(consigne__contract_id__in=pks)
    latest = {}
    rows = query.order_by("acknowledged_at", "pk").values_list(
        "consigne__contract_id", "version__number", "acknowledged_at", "actor", "channel"
    )
    for contract_pk, number, at, actor, channel in rows.iterator():
        latest[contract_pk] = (number, at, actor, channel)
    return latest


def _accounts(pks: Sequence[int] | None) -> dict[int, list[str]]:
    """Each contract's accounts, ``e-mail (role)``, the Gestionnaire last."""
    query = Role.objects.all() if pks is None else Role.objects.filter(contract_id__in=pks)
    found: dict[int, list[str]] = defaultdict(list)
    rows = query.order_by("contract_id", "kind", "user__email").values_list("contract_id", "user__email", "kind")
    for contract_pk, email, kind in rows.iterator():
        found[contract_pk].append(f"{email} ({Role.Kind(kind).label})")
    return found


# --- the contracts list -------------------------------------------------------------------------------------


def contracts_matching(search: str = "", *, day: date | None = None, eligible: bool | None = None):
    """Contracts whose id, name, display name, grid id or an account's e-mail contains ``search``; with ``day``
    and ``eligible``, only those (not) in scope on that day. By id."""
    query = Contract.objects.order_by("contract_id")
    text = search.strip()
    if text:
        accounts = Role.objects.filter(user__email__icontains=text).values("contract_id")
        query = query.filter(
            Q(contract_id__icontains=text)
            | Q(name__icontains=text)
            | Q(display_name__icontains=text)
            | Q(network_id__icontains=text)
            | Q(pk__in=accounts)
        )
    if day is not None and eligible is not None:
        condition = eligible_on(day)
        query = query.filter(condition) if eligible else query.exclude(condition)
    return query


@dataclass(frozen=True)
class Account:
    pk: int
    email: str
    role: str  # Role.Kind
    active: bool

    @property
    def role_label(self) -> str:
        return str(Role.Kind(self.role).label)


def contract_rows(contracts: Iterable[Contract], day: date) -> list[dict]:
    """The contracts list's rows: eligibility on ``day`` (None, or the reason), accounts and roles, the active
    token's expiry (three queries for any number of contracts on the page)."""
    contracts = list(contracts)
    pks = [c.pk for c in contracts]
    rules = eligibility_rules_on(day)
    accounts: dict[int, list[Account]] = defaultdict(list)
    roles = Role.objects.filter(contract_id__in=pks).order_by("kind", "user__email")
    for contract_pk, user_pk, email, kind, active in roles.values_list(
        "contract_id", "user_id", "user__email", "kind", "user__is_active"
    ):
        accounts[contract_pk].append(Account(user_pk, email, kind, active))
    tokens = active_token_expiries(pks)
    return [
        {
            "contract": contract,
            "contract_id": contract.contract_id,
            "name": contract.label,
            "sector": contract.get_sector_display(),
            "power": f"{number_text(contract.installed_power)} {contract.power_unit}",
            "eligibility": eligibility(contract, day, rules),
            "accounts": accounts.get(contract.pk, []),
            "token_expires": tokens.get(contract.pk),
        }
        for contract in contracts
    ]


def manager_of(contract: Contract) -> str | None:
    """The e-mail of the contract's Gestionnaire, if it has one."""
    return Role.objects.filter(contract=contract, kind=Role.Kind.MANAGER).values_list("user__email", flat=True).first()


# --- the accounts list --------------------------------------------------------------------------------------


def accounts_matching(search: str = ""):
    """Accounts whose e-mail or name contains ``search``, by e-mail."""
    query = User.objects.order_by("email")
    text = search.strip()
    if text:
        query = query.filter(Q(email__icontains=text) | Q(full_name__icontains=text))
    return query


def account_rows(users: Iterable[User]) -> list[dict]:
    """The accounts list's rows: roles on contracts, whether an authenticator is enrolled and the operator role
    (three queries)."""
    users = list(users)
    pks = [u.pk for u in users]
    roles: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for user_pk, contract_id, kind in (
        Role.objects.filter(user_id__in=pks)
        .order_by("contract__contract_id")
        .values_list("user_id", "contract__contract_id", "kind")
    ):
        roles[user_pk].append((contract_id, str(Role.Kind(kind).label)))
    enrolled = set(
        TOTPDevice.objects.filter(user_id__in=pks, confirmed=True).values_list("user_id", flat=True).distinct()
    )
    operator_roles = roles_of(users)
    return [
        {
            "user": u,
            "roles": roles.get(u.pk, []),
            "enrolled": u.pk in enrolled,
            "operator_role": operator_roles.get(u.pk),
        }
        for u in users
    ]
