"""The account's contracts as the Contrats page and the API access page list them: each with its role, the
acknowledgment state of a delivery day and its API readiness (an active token, a declared address), counted per
filter, searched, sorted and paged in the SQL — a constant number of queries whatever the number of contracts
held (an aggregator may hold a thousand).

The pages' query string (``filtre``, ``q``, ``tri``, ``page``) is read by ``Listing``: unknown values fall back to
the defaults, so that every view can be bookmarked and nothing typed in the address bar breaks a page. The states
are ``domain.acknowledgment.Status``, computed here as ``consignes.acknowledgments.day_states`` computes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import urlencode

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, NullIf
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

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

    def condition(self) -> Q:
        q = Q()
        if self.states is not None:
            q &= Q(rank__in=sorted(RANK[s] for s in self.states))
        if self.token is not None:
            q &= Q(has_token=self.token)
        if self.address is not None:
            q &= Q(has_address=self.address)
        return q

    def admits(self, rank: int, has_token: bool, has_address: bool) -> bool:
        return (
            (self.states is None or ORDER[rank] in self.states)
            and (self.token is None or has_token == self.token)
            and (self.address is None or has_address == self.address)
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
    "etat": (_("État"), ("rank", "contract_id")),
    "id": (_("Identifiant"), ("contract_id",)),
    "nom": (_("Nom"), (Lower("shown_name"), "contract_id")),
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

    @property
    def condition(self) -> Q:
        """The SQL condition of the filter and the search."""
        q = FILTER_BY_KEY[self.filter].condition()
        if self.search:
            q &= search_condition(self.search)
        return q


def search_condition(text: str) -> Q:
    return Q(contract_id__icontains=text) | Q(name__icontains=text) | Q(display_name__icontains=text)


def held(user, day: date, *, moment: datetime, locked: bool) -> QuerySet[Contract]:
    """The contracts ``user`` holds a role on, each annotated with ``role`` (Role.Kind), ``shown_name`` (the
    name the portal shows), ``version`` (the current version number of ``day``'s consigne, None when not
    published), ``rank`` (its acknowledgment state's place in ORDER), ``has_token`` (an active token, not expired
    at ``moment``) and ``has_address`` (an allowed address). ``locked``: ``day``'s HLAR has passed."""
    acknowledged_current = Acknowledgment.objects.filter(version_id=OuterRef("version_pk"))
    acknowledged_any = Acknowledgment.objects.filter(consigne_id=OuterRef("day_consigne__id"))
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
            shown_name=Coalesce(NullIf("display_name", Value("")), "name"),
            version=F("day_consigne__current_version__number"),
            version_pk=F("day_consigne__current_version_id"),
        )
        .annotate(
            done=Exists(acknowledged_current),
            acknowledged=Exists(acknowledged_any),
            has_token=Exists(
                ApiToken.objects.filter(contract_id=OuterRef("pk"), revoked_at__isnull=True, expires_at__gt=moment)
            ),
            has_address=Exists(AllowedIP.objects.filter(contract_id=OuterRef("pk"))),
        )
        .annotate(rank=Case(*whens, default=Value(default), output_field=IntegerField()))
    )


@dataclass(frozen=True)
class Counts:
    """The contracts held, grouped by (rank, has_token, has_address, matches the search): enough to count what
    any filter finds, with or without the search, in any state."""

    groups: tuple[tuple[int, bool, bool, bool, int], ...]

    def of(self, key: str, *, searched: bool = True, states: frozenset[Status] | None = None) -> int:
        """How many contracts the filter ``key`` finds (among those matching the search when ``searched``; only
        those in ``states`` when given)."""
        f = FILTER_BY_KEY[key]
        return sum(
            n
            for rank, has_token, has_address, matches, n in self.groups
            if (matches or not searched)
            and f.admits(rank, has_token, has_address)
            and (states is None or ORDER[rank] in states)
        )


def counts(query: QuerySet[Contract], search: str) -> Counts:
    """The contracts of ``query`` (from ``held``) grouped as ``Counts`` needs them: one query, at most 40 rows."""
    matches = ExpressionWrapper(search_condition(search) if search else Q(pk__isnull=False), BooleanField())
    groups = (
        query.annotate(matches=matches)
        .order_by()
        .values_list("rank", "has_token", "has_address", "matches")
        .annotate(n=Count("pk"))
    )
    return Counts(tuple((rank, bool(t), bool(a), bool(m), n) for rank, t, a, m, n in groups))


@dataclass(frozen=True)
class Page:
    """One page of a listing: its ``number`` (1-based) of ``pages``, the ``total`` of rows listed, the rows."""

    number: int
    pages: int
    total: int
    rows: list[dict]

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


ROW_FIELDS = ("pk", "contract_id", "shown_name", "role", "version", "rank", "has_token", "has_address")


def page_of(query: QuerySet[Contract], listing: Listing, total: int) -> Page:
    """The page of ``query`` that ``listing`` asks for (the last one when past the end), its rows as dicts of
    ROW_FIELDS; ``total``: how many contracts the listing finds (from ``counts``). One query."""
    pages = max(1, math.ceil(total / PER_PAGE))
    number = min(listing.page, pages)
    start = (number - 1) * PER_PAGE
    rows = query.filter(listing.condition).order_by(*SORTS[listing.sort][1]).values(*ROW_FIELDS)
    return Page(number, pages, total, list(rows[start : start + PER_PAGE]) if total else [])


def listed(query: QuerySet[Contract], listing: Listing, *, states: frozenset[Status] | None = None) -> list[dict]:
    """Every row ``listing`` finds, on every page, in its order (optionally only those in ``states``): for the
    actions on a whole filter. One query."""
    rows = query.filter(listing.condition)
    if states is not None:
        rows = rows.filter(Q(rank__in=sorted(RANK[s] for s in states)))
    return list(rows.order_by(*SORTS[listing.sort][1]).values(*ROW_FIELDS))


def addresses_of(contract_pks: list[int]) -> dict[int, list[str]]:
    """The allowed addresses of each of the contracts (a page of them: one query), in the order added."""
    found: dict[int, list[str]] = {}
    rows = AllowedIP.objects.filter(contract_id__in=contract_pks).order_by("pk").values_list("contract_id", "address")
    for contract_pk, address in rows:
        found.setdefault(contract_pk, []).append(address)
    return found
