"""The account's contracts as the Contrats page and the API access page list them: each with its role, the
acknowledgment state of a delivery day and its API readiness (an active token, a declared address). One query
reads these few facts for every contract held; counting per filter, searching, sorting and paging are done on them
in Python — a constant number of queries whatever the number of contracts held (an aggregator may hold a
thousand), and the pages then read the details of the fifty contracts shown only.

The pages' query string (``filtre``, ``q``, ``tri``, ``page``) is read by ``Listing``: unknown values fall back to
the defaults, so that every view can be bookmarked and nothing typed in the address bar breaks a page. The states
are ``domain.acknowledgment.Status``, computed in the SQL as ``consignes.acknowledgments.day_states`` computes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import urlencode

from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from smartoa.accounts.models import Role
from smartoa.consignes.models import Acknowledgment
from smartoa.contracts.models import AllowedIP, ApiToken, Contract
from smartoa.domain.acknowledgment import Status

PER_PAGE = 50
SEARCH_MAX = 100
# The order of the "state" sort: what needs acknowledging first, what is done last.
ORDER = (Status.VOIDED, Status.TO_DO, Status.MISSED, Status.NOT_PUBLISHED, Status.DONE)
RANK = {status: n for n, status in enumerate(ORDER)}
TO_ACKNOWLEDGE = frozenset({Status.VOIDED, Status.TO_DO})


@dataclass(frozen=True)
class Filter:
    """One of the pages' filters: contracts in one of ``states`` (None: any), with or without an active token
    (``token``) or a declared address (``address``); ``when``: shown ``always``, before HLAR only (``open``) or
    from HLAR on (``locked``)."""

    key: str
    label: Promise
    states: frozenset[Status] | None = None
    token: bool | None = None
    address: bool | None = None
    when: str = "always"

    def admits(self, row: Held) -> bool:
        return (
            (self.states is None or row.state in self.states)
            and (self.token is None or row.has_token == self.token)
            and (self.address is None or row.has_address == self.address)
        )

    def shown(self, locked: bool) -> bool:
        return self.when == "always" or (self.when == "locked") == locked


FILTERS = (
    Filter("tous", _("Tous")),
    Filter("a-acquiescer", _("À acquiescer"), states=TO_ACKNOWLEDGE, when="open"),
    Filter("modifiees", _("Modifiées"), states=frozenset({Status.VOIDED}), when="open"),
    Filter("non-acquiescees", _("Non acquiescées"), states=frozenset({Status.MISSED}), when="locked"),
    Filter("acquiescees", _("Acquiescées"), states=frozenset({Status.DONE})),
    Filter("sans-jeton", _("Sans jeton"), token=False),
    Filter("sans-adresse", _("Sans adresse IP"), address=False),
)
FILTER_BY_KEY = {f.key: f for f in FILTERS}
API_FILTERS = ("tous", "sans-jeton", "sans-adresse")  # the API access page's filters

SORTS = {
    "etat": (_("État"), lambda row: (row.rank, row.contract_id)),
    "id": (_("Identifiant"), lambda row: row.contract_id),
    "nom": (_("Nom"), lambda row: (row.shown_name.casefold(), row.contract_id)),
}
API_SORTS = ("id", "nom")  # the API access page's sorts, by id first
DEFAULTS = {"filtre": "tous", "q": "", "tri": "etat", "page": "1"}


@dataclass(frozen=True)
class Listing:
    """What a page lists: a filter, a search (in the id and the name), a sort and a page number."""

    filter: str = "tous"
    search: str = ""
    sort: str = "etat"
    page: int = 1
    default_sort: str = "etat"

    @classmethod
    def of(cls, params, *, filters=None, sorts=None) -> Listing:
        """The listing asked for by the query string ``params`` (a QueryDict or a dict); unknown or malformed
        values fall back to the defaults; ``filters`` and ``sorts``: the keys the page offers (default: all; the
        first sort is the default one)."""
        sorts = sorts or tuple(SORTS)
        key = params.get("filtre", "")
        sort = params.get("tri", "")
        search = " ".join(str(params.get("q", "")).split())[:SEARCH_MAX]
        page = str(params.get("page", ""))
        return cls(
            key if key in (filters or FILTER_BY_KEY) else "tous",
            search,
            sort if sort in sorts else sorts[0],
            min(int(page), 1_000_000) if page.isdigit() and int(page) > 0 else 1,
            sorts[0],
        )

    def params(self) -> dict[str, str]:
        """The query-string parameters of this listing that differ from the defaults."""
        values = {"filtre": self.filter, "q": self.search, "tri": self.sort, "page": str(self.page)}
        defaults = {**DEFAULTS, "tri": self.default_sort}
        return {k: v for k, v in values.items() if v != defaults[k]}

    def query(self, **changes) -> str:
        """The query string of this listing with ``changes`` (a new filter, search or sort starts at page 1)."""
        changed = replace(self, **changes)
        if "page" not in changes and changes:
            changed = replace(changed, page=1)
        return urlencode(changed.params())

    def rows(self, found: list[Held], *, states: frozenset[Status] | None = None) -> list[Held]:
        """The rows of ``found`` this listing finds on every page, in its order (only those in ``states`` when
        given)."""
        wanted = FILTER_BY_KEY[self.filter]
        text = self.search.casefold()
        rows = [
            r
            for r in found
            if wanted.admits(r) and (not text or r.matches(text)) and (states is None or r.state in states)
        ]
        return sorted(rows, key=SORTS[self.sort][1])


def held(user, day: date, *, moment: datetime, locked: bool) -> QuerySet[Contract]:
    """The contracts ``user`` holds a role on, each annotated with ``role`` (Role.Kind), ``version`` (the current
    version number of ``day``'s consigne, None when not published), ``rank`` (its acknowledgment state's place in
    ORDER), ``has_token`` (an active token, not expired at ``moment``) and ``has_address`` (an allowed address).
    ``locked``: ``day``'s HLAR has passed.

    Every fact comes from a subquery bounded by the account's own contracts (their acknowledgments of ``day``,
    their tokens, their addresses), never from a whole table: the database may evaluate such a subquery once, as
    a set, and the acknowledgments' table grows by a row per contract and day."""
    theirs = Role.objects.filter(user=user).values("contract_id")
    day_acks = Acknowledgment.objects.filter(consigne__delivery_day=day, consigne__contract_id__in=theirs)
    tokens = ApiToken.objects.filter(contract_id__in=theirs, revoked_at__isnull=True, expires_at__gt=moment)
    addresses = AllowedIP.objects.filter(contract_id__in=theirs)
    whens = [
        When(version__isnull=True, then=Value(RANK[Status.NOT_PUBLISHED])),
        When(done=True, then=Value(RANK[Status.DONE])),
    ]
    if not locked:
        whens.append(When(acknowledged=True, then=Value(RANK[Status.VOIDED])))
    default = RANK[Status.MISSED] if locked else RANK[Status.TO_DO]
    return (
        Contract.objects.annotate(
            mine=FilteredRelation("roles", condition=Q(roles__user=user)),
            day_consigne=FilteredRelation("consignes", condition=Q(consignes__delivery_day=day)),
        )
        .filter(mine__user=user)
        .annotate(
            role=F("mine__kind"),
            version=F("day_consigne__current_version__number"),
        )
        .annotate(
            done=_fact(Q(day_consigne__current_version_id__in=day_acks.values("version_id"))),
            acknowledged=_fact(Q(day_consigne__id__in=day_acks.values("consigne_id"))),
            has_token=_fact(Q(pk__in=tokens.values("contract_id"))),
            has_address=_fact(Q(pk__in=addresses.values("contract_id"))),
        )
        .annotate(rank=Case(*whens, default=Value(default), output_field=IntegerField()))
    )


def _fact(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


@dataclass(frozen=True)
class Held:
    """One contract held, as the listings see it."""

    pk: int
    contract_id: str
    name: str
    display_name: str
    role: str  # Role.Kind
    version: int | None  # the current version of the day's consigne
    rank: int  # its acknowledgment state's place in ORDER
    has_token: bool
    has_address: bool

    @property
    def shown_name(self) -> str:
        return self.display_name or self.name

    @property
    def state(self) -> Status:
        return ORDER[self.rank]

    def matches(self, text: str) -> bool:
        """Whether the id, the name or the display name contains ``text`` (casefolded)."""
        return any(text in value.casefold() for value in (self.contract_id, self.name, self.display_name))


FACTS = ("pk", "contract_id", "name", "display_name", "role", "version", "rank", "has_token", "has_address")


def facts(user, day: date, *, moment: datetime, locked: bool) -> list[Held]:
    """Every contract ``user`` holds, with its facts of ``day`` (see ``held``), in no order: one query."""
    rows = held(user, day, moment=moment, locked=locked).order_by().values_list(*FACTS)
    return [Held(pk, cid, n, d, role, v, rank, bool(t), bool(a)) for pk, cid, n, d, role, v, rank, t, a in rows]


@dataclass(frozen=True)
class Counts:
    """How many of the contracts held each filter finds, with or without the listing's search."""

    found: list[Held]
    search: str

    def of(self, key: str, *, searched: bool = True, states: frozenset[Status] | None = None) -> int:
        """How many contracts the filter ``key`` finds (among those matching the search when ``searched``; only
        those in ``states`` when given)."""
        f, text = FILTER_BY_KEY[key], self.search.casefold() if searched else ""
        return sum(
            1
            for r in self.found
            if f.admits(r) and (not text or r.matches(text)) and (states is None or r.state in states)
        )


@dataclass(frozen=True)
class Page:
    """One page of a listing: its ``number`` (1-based) of ``pages``, the ``total`` of rows listed, the rows."""

    number: int
    pages: int
    total: int
    rows: list[Held]

    @property
    def first_index(self) -> int:
        return (self.number - 1) * PER_PAGE + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.number * PER_PAGE, self.total)

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def page_of(rows: list[Held], listing: Listing) -> Page:
    """The page of ``rows`` (what ``listing`` finds, from ``Listing.rows``) that ``listing`` asks for (the last
    one when past the end)."""
    pages = max(1, math.ceil(len(rows) / PER_PAGE))
    number = min(listing.page, pages)
    start = (number - 1) * PER_PAGE
    return Page(number, pages, len(rows), rows[start : start + PER_PAGE])


def addresses_of(contract_pks: list[int]) -> dict[int, list[str]]:
    """The allowed addresses of each of the contracts (a page of them: one query), in the order added."""
    found: dict[int, list[str]] = {}
    rows = AllowedIP.objects.filter(contract_id__in=contract_pks).order_by("pk").values_list("contract_id", "address")
    for contract_pk, address in rows:
        found.setdefault(contract_pk, []).append(address)
    return found
