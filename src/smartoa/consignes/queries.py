"""Reading the current version of consignes: the one module that knows where it is stored.

The current version of a consigne is ``Consigne.current_version``, written only by publication and modification
(``consignes/services.py``). Billing, statements, acknowledgments, the API and the pages read it through the
functions below, with the contracts they are about in the SQL: a page about one contract reads one contract's
rows, whatever the number of contracts in the database.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from smartoa.consignes.deadlines import hlars_for
from smartoa.consignes.models import Acknowledgment, Consigne, ConsigneVersion
from smartoa.core.clock import now
from smartoa.core.sql import chunks, date_column, placeholders
from smartoa.domain.acknowledgment import DayAcknowledgment, Status, status_of
from smartoa.domain.schedule import Period, no_stop_periods, periods_from_json

_CONSIGNE = Consigne._meta.db_table
_VERSION = ConsigneVersion._meta.db_table
_ACK = Acknowledgment._meta.db_table

# The current version of a contract's latest consigne (greatest day) as one text value, "<version id> <stored API
# document>" (NULL when nothing is published): a scalar subquery for the API's one authentication statement
# (``api/auth.py``), correlated on ``{contract}``; ``split_latest`` takes it apart. One value rather than two
# columns: a second column would cost a second subquery or a join, measured 20-30 µs more per call on PostgreSQL.
LATEST_VERSION_SQL = (
    f"(SELECT CAST(v.id AS TEXT) || ' ' || v.document FROM {_CONSIGNE} k "
    f"JOIN {_VERSION} v ON v.id = k.current_version_id "
    "WHERE k.contract_id = {contract} ORDER BY k.delivery_day DESC LIMIT 1)"
)


def split_latest(value: str | bytes | memoryview | None) -> tuple[int | None, str | None]:
    """(version id, document) of a ``LATEST_VERSION_SQL`` value; (None, None) when nothing is published."""
    if value is None:
        return None, None
    if isinstance(value, memoryview | bytes):
        value = bytes(value).decode()
    version, _, document = value.partition(" ")
    return int(version), document


def current_version(contract_pk: int, day: date) -> ConsigneVersion | None:
    """The current version of the contract's consigne of ``day`` (None if never published)."""
    consigne = Consigne.objects.filter(contract_id=contract_pk, delivery_day=day).select_related("current_version")
    found = consigne.first()
    return found.current_version if found else None


def current_numbers(consigne_pks: Iterable[int]) -> dict[int, tuple[int, list[dict]]]:
    """For each consigne, (number, periods) of its current version."""
    current: dict[int, tuple[int, list[dict]]] = {}
    for part in chunks(sorted(set(consigne_pks))):
        rows = Consigne.objects.filter(pk__in=part).values_list(
            "pk", "current_version__number", "current_version__periods"
        )
        current.update((pk, (number, periods)) for pk, number, periods in rows)
    return current


def current_documents(contract_pk: int, first: date, last: date) -> list[str]:
    """The stored API document of the current version of each published day in [first, last], by day."""
    rows = (
        Consigne.objects.filter(contract_id=contract_pk, delivery_day__range=(first, last))
        .order_by("delivery_day")
        .values_list("current_version__document", flat=True)
    )
    return [document for document in rows if document is not None]


def current_versions(contract_pk: int, first: date, last: date) -> list[ConsigneVersion]:
    """The current version of each published day of the contract in [first, last], by day."""
    consignes = (
        Consigne.objects.filter(contract_id=contract_pk, delivery_day__range=(first, last))
        .select_related("current_version")
        .order_by("delivery_day")
    )
    return [c.current_version for c in consignes if c.current_version is not None]


def current_rows(
    first: date, last: date, contract_pks: Iterable[int] | None = None, *, acknowledged: bool = False
) -> Iterator[tuple[int, date, int, object, bool | None]]:
    """(contract pk, day, number, periods, acknowledged) of the current version of every published contract-day
    in [first, last]: of ``contract_pks`` only when given (in the SQL, so one contract reads one contract's
    rows), of every contract otherwise. ``periods`` is the stored JSON (text on SQLite, decoded on PostgreSQL),
    only for versions with a stop; ``acknowledged`` (whether the version has an acknowledgment) is read only
    when asked, else None."""
    ack = f"EXISTS (SELECT 1 FROM {_ACK} a WHERE a.version_id = v.id)" if acknowledged else "NULL"
    sql = (
        f"SELECT k.contract_id, {date_column('k.delivery_day')}, v.number, "
        f"CASE WHEN v.has_stop THEN v.periods END, {ack} "
        f"FROM {_CONSIGNE} k JOIN {_VERSION} v ON v.id = k.current_version_id "
        "WHERE k.delivery_day >= %s AND k.delivery_day <= %s"
    )
    batches: list[Sequence[int]] | list[None] = (
        [None] if contract_pks is None else list(chunks(sorted(set(contract_pks))))
    )
    days: dict[object, date] = {}
    with connection.cursor() as cursor:
        for batch in batches:
            where = "" if batch is None else f" AND k.contract_id IN ({placeholders(len(batch))})"
            cursor.execute(sql + where, [first, last, *(batch or [])])
            while chunk := cursor.fetchmany(50_000):
                for contract_pk, day, number, periods, done in chunk:
                    if (parsed := days.get(day)) is None:
                        parsed = days[day] = date.fromisoformat(day) if isinstance(day, str) else day
                    yield contract_pk, parsed, number, periods, None if done is None else bool(done)


def version_history(contract_pk: int, day: date | None = None) -> list[ConsigneVersion]:
    """Every version of the contract's consignes (of ``day`` only, if given), by day then number, with their
    acknowledgments."""
    query = ConsigneVersion.objects.filter(contract_id=contract_pk)
    if day is not None:
        query = query.filter(delivery_day=day)
    return list(query.order_by("delivery_day", "number").prefetch_related("acknowledgments"))


def current_schedules(day: date, contract_pks: Iterable[int]) -> dict[int, tuple[Period, ...]]:
    """The current schedule of ``day`` for each of the contracts that has a consigne that day."""
    found: dict[int, tuple[Period, ...]] = {}
    for contract_pk, _day, _number, periods, _ack in current_rows(day, day, contract_pks):
        if periods is None:  # no stop that day: the rows carry no periods
            found[contract_pk] = no_stop_periods(day)
        else:
            data = json.loads(periods) if isinstance(periods, str) else periods
            found[contract_pk] = periods_from_json(data)  # type: ignore[arg-type]  # stored JSON: a list
    return found


@dataclass(frozen=True)
class AcknowledgmentRow:
    """One acknowledgment of a day: the version it names, when, by whom, through which channel
    (``Acknowledgment.Channel``)."""

    version: int
    at: datetime
    actor: str
    channel: str

    @property
    def channel_label(self) -> str:
        """The channel in words: "Portail", "API"."""
        return str(Acknowledgment.Channel(self.channel).label)

    @property
    def token_prefix(self) -> str | None:
        """The prefix of the API token that acknowledged (None: not through the API)."""
        return self.actor.removeprefix("api:") if self.channel == Acknowledgment.Channel.API else None


@dataclass(frozen=True)
class PublishedDay:
    """A contract's published day as its history shows it: the current version and schedule, how many versions
    were published, every acknowledgment (oldest first) and where the acknowledgment stands."""

    day: date
    version: int
    versions: int
    periods: tuple[Period, ...]
    acknowledgments: tuple[AcknowledgmentRow, ...]
    state: DayAcknowledgment

    @property
    def has_stop(self) -> bool:
        return any(p.value > 0 for p in self.periods)

    @property
    def acknowledgment(self) -> AcknowledgmentRow | None:
        """The latest acknowledgment of the current version (None: the current version is not acknowledged)."""
        return next((a for a in reversed(self.acknowledgments) if a.version == self.version), None)

    @property
    def voided(self) -> AcknowledgmentRow | None:
        """The latest acknowledgment, when a later version voided it and the current version is not
        acknowledged."""
        if self.acknowledgment is not None or not self.acknowledgments:
            return None
        return self.acknowledgments[-1]


def first_published_day(contract_pk: int) -> date | None:
    """The earliest day the contract has a consigne for (None: none yet)."""
    return Consigne.objects.filter(contract_id=contract_pk).aggregate(first=Min("delivery_day"))["first"]


def published_days(contract_pk: int, first: date, last: date) -> dict[date, PublishedDay]:
    """Every published day of the contract in [first, last]: its current version and schedule, its number of
    versions, its acknowledgments and their state. Three queries whatever the number of days (the consignes with
    their current version and version count, the acknowledgments, the days' HLAR)."""
    count = (
        ConsigneVersion.objects.filter(consigne=OuterRef("pk"))
        .order_by()
        .values("consigne")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Consigne.objects.filter(contract_id=contract_pk, delivery_day__range=(first, last))
        .exclude(current_version=None)
        .annotate(n_versions=Subquery(count))
        .values_list(
            "delivery_day",
            "current_version__number",
            "current_version__has_stop",
            "current_version__periods",
            "n_versions",
        )
    )
    consignes = {day: (number, has_stop, periods, n) for day, number, has_stop, periods, n in rows}
    if not consignes:
        return {}
    acknowledgments: dict[date, list[AcknowledgmentRow]] = defaultdict(list)
    acks = (
        Acknowledgment.objects.filter(consigne__contract_id=contract_pk, consigne__delivery_day__range=(first, last))
        .order_by("acknowledged_at", "pk")
        .values_list("consigne__delivery_day", "version__number", "acknowledged_at", "actor", "channel")
    )
    for day, number, at, actor, channel in acks:
        acknowledgments[day].append(AcknowledgmentRow(number, at, actor, channel))
    hlars, moment = hlars_for(consignes), now()
    found = {}
    for day in sorted(consignes):
        number, has_stop, periods, n = consignes[day]
        rows_of_day = tuple(acknowledgments[day])
        latest = rows_of_day[-1] if rows_of_day else None
        state = status_of(
            version=number,
            acknowledged_versions={a.version for a in rows_of_day},
            latest=(latest.version, latest.at, latest.actor) if latest else None,
            deadline=hlars[day],
            now=moment,
        )
        schedule = periods_from_json(periods) if has_stop else no_stop_periods(day)
        found[day] = PublishedDay(day, number, n, schedule, rows_of_day, state)
    return found


def with_day_state(contracts: QuerySet, day: date, *, locked: bool) -> QuerySet:
    """``contracts`` annotated with where ``day`` stands for each of them, in the SQL (``status_of``'s rule, for
    pages that count, filter, order and paginate by it): ``version`` (the current version's number, None when not
    published), ``version_pk`` and ``day_state`` (a ``domain.acknowledgment.Status`` value). ``locked``: the
    day's HLAR has passed (what is not acknowledged then is missed)."""
    acknowledged_current = Acknowledgment.objects.filter(version_id=OuterRef("version_pk"))
    acknowledged_any = Acknowledgment.objects.filter(consigne_id=OuterRef("day_consigne__id"))
    whens = [
        When(version__isnull=True, then=Value(Status.NOT_PUBLISHED.value)),
        When(done=True, then=Value(Status.DONE.value)),
    ]
    if not locked:
        whens.append(When(acknowledged=True, then=Value(Status.VOIDED.value)))
    default = Status.MISSED if locked else Status.TO_DO
    return (
        contracts.annotate(day_consigne=FilteredRelation("consignes", condition=Q(consignes__delivery_day=day)))
        .annotate(
            version=F("day_consigne__current_version__number"),
            version_pk=F("day_consigne__current_version_id"),
        )
        .annotate(done=Exists(acknowledged_current), acknowledged=Exists(acknowledged_any))
        .annotate(day_state=Case(*whens, default=Value(default.value), output_field=CharField()))
    )
