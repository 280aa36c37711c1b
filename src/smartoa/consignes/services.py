"""Consigne services: publication and incident modification, the only writers of versions and of each
consigne's current version. Callers own the transaction.

Acknowledgments live in ``acknowledgments.py``, HLAR in ``deadlines.py``, generation from prices in
``generation.py``; reading the current versions in ``queries.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.utils.translation import gettext_noop

from smartoa.audit.services import record
from smartoa.consignes.deadlines import hlars_for
from smartoa.consignes.models import Consigne, ConsigneVersion
from smartoa.consignes.queries import current_numbers
from smartoa.consignes.rules import Force, audit_of, enforce, rule_problems
from smartoa.contracts.models import Contract
from smartoa.contracts.services import contracts_by_id
from smartoa.core.clock import now
from smartoa.core.metrics import VERSIONS, after_commit
from smartoa.core.sql import chunks
from smartoa.domain.errors import Conflict, InvalidInput, NotFound, UserError, at_most
from smartoa.domain.schedule import ConsigneDocument, ScheduleError, parse_document, render_document
from smartoa.domain.text import check_text, is_contract_id
from smartoa.notifications.events import ConsigneNotice, consignes_changed

SHOWN = 20  # ids named in a refusal message before "… and N more"
MAX_PROBLEMS = 50  # problems of a file named in its refusal before "… and N more"
MAX_REASON = 1000
# The refusal of a whole file, by what it would have done.
NOTHING_DONE = {
    "published": gettext_noop("nothing was published:\n%(problems)s"),
    "changed": gettext_noop("nothing was changed:\n%(problems)s"),
}


def _named(items: list[str]) -> str | UserError:
    """Ids named in a message: the first SHOWN, then "… and N more"."""
    if len(items) <= SHOWN:
        return ", ".join(items)
    return UserError(
        gettext_noop("%(ids)s … and %(count)s more"), ids=", ".join(items[:SHOWN]), count=len(items) - SHOWN
    )


def _unknown(missing: list[str]) -> NotFound:
    template = (
        gettext_noop("unknown contract: %(ids)s") if len(missing) == 1 else gettext_noop("unknown contracts: %(ids)s")
    )
    return NotFound(template, ids=_named(missing))


def load_documents(text: str, *, action: str = "published") -> list[ConsigneDocument]:
    """Parse a publication file (one document or a list, API format) and validate every document; ``action``
    (``published`` or ``changed``) says what a refusal did not do.

    Raises InvalidInput naming every bad document; checks contracts exist and are not repeated.
    """
    raw = parse_json(text)
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise InvalidInput(gettext_noop("the file holds no consigne"))
    ids = [str(item["id"]) for item in items if isinstance(item, dict) and is_contract_id(item.get("id"))]
    sectors = {cid: c.sector for cid, c in contracts_by_id(ids).items()}
    documents, seen = [], set()
    errors: list[UserError] = []
    for n, item in enumerate(items, start=1):
        try:
            doc = parse_document(item, allow_fractions=lambda cid: sectors.get(cid) == "wind_offshore")
        except ScheduleError as exc:
            errors.append(InvalidInput(gettext_noop("document %(n)s: %(problem)s"), n=n, problem=exc))
            continue
        if doc.contract_id not in sectors:
            errors.append(
                NotFound(
                    gettext_noop("document %(n)s: unknown contract %(contract_id)r"), n=n, contract_id=doc.contract_id
                )
            )
        elif (doc.contract_id, doc.delivery_day) in seen:
            errors.append(
                InvalidInput(
                    gettext_noop("document %(n)s: %(contract_id)s %(day)s appears twice in the file"),
                    n=n,
                    contract_id=doc.contract_id,
                    day=doc.delivery_day,
                )
            )
        seen.add((doc.contract_id, doc.delivery_day))
        documents.append(doc)
    if errors:
        raise InvalidInput(NOTHING_DONE[action], problems=at_most(errors, MAX_PROBLEMS))
    return documents


def parse_json(text: str) -> object:
    """The JSON value of ``text``; InvalidInput (never a crash) for malformed, too deeply nested or too large
    input."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(gettext_noop("not valid JSON: %(problem)s"), problem=str(exc)) from None
    except RecursionError:
        raise InvalidInput(gettext_noop("not accepted: the JSON is nested too deeply")) from None
    except ValueError as exc:  # json's own refusal of an integer of thousands of digits
        raise InvalidInput(gettext_noop("not accepted: %(problem)s"), problem=str(exc)) from None


class VersionFactory:
    """Builds versions stamped ``at``, rendering each distinct (day, schedule) document only once."""

    _MARK = "@@CONTRACT_ID@@"

    def __init__(self, at: datetime, actor: str, reason: str = ""):
        self.at, self.actor, self.reason = at, actor, reason
        self._groups: dict[tuple, tuple[str, str, list[dict], str, bool]] = {}

    def _group(self, doc: ConsigneDocument):
        key = (doc.delivery_day, doc.periods)
        group = self._groups.get(key)
        if group is None:
            text = render_document(self._MARK, self.at, doc.delivery_day, doc.periods).decode()
            prefix, suffix = text.split(json.dumps(self._MARK), 1)
            periods = [p.as_json() for p in doc.periods]
            group = self._groups[key] = (prefix, suffix, periods, json.dumps(periods), doc.has_stop)
        return group

    def document(self, doc: ConsigneDocument) -> str:
        prefix, suffix = self._group(doc)[:2]
        return prefix + json.dumps(doc.contract_id, ensure_ascii=False) + suffix

    def version(self, consigne: Consigne, doc: ConsigneDocument, number: int) -> ConsigneVersion:
        """An unsaved ConsigneVersion."""
        _, _, periods, _, has_stop = self._group(doc)
        return ConsigneVersion(
            consigne=consigne,
            contract_id=consigne.contract_id,
            delivery_day=doc.delivery_day,
            number=number,
            created_at=self.at,
            created_by=self.actor,
            reason=self.reason,
            has_stop=has_stop,
            periods=periods,
            document=self.document(doc),
        )

    def row(self, consigne_id: int, contract_pk: int, doc: ConsigneDocument, number: int, day, at) -> tuple:
        """The version as a DB-API row for ``_VERSION_INSERT`` (``day``/``at`` already adapted)."""
        _, _, _, periods_json, has_stop = self._group(doc)
        return (
            consigne_id,
            contract_pk,
            day,
            number,
            at,
            self.actor,
            self.reason,
            has_stop,
            periods_json,
            self.document(doc),
        )


@dataclass(frozen=True, slots=True)
class Published:
    contract_id: str
    delivery_day: date
    number: int


_CONSIGNE_INSERT = f"INSERT INTO {Consigne._meta.db_table} (contract_id, delivery_day) VALUES (%s, %s)"
_SET_FIRST_CURRENT = (
    f"UPDATE {Consigne._meta.db_table} SET current_version_id = (SELECT v.id FROM {ConsigneVersion._meta.db_table} v "
    f"WHERE v.consigne_id = {Consigne._meta.db_table}.id AND v.number = 1) "
    "WHERE delivery_day = %s AND current_version_id IS NULL"
)
_VERSION_INSERT = (
    f"INSERT INTO {ConsigneVersion._meta.db_table} (consigne_id, contract_id, delivery_day, number, "
    "created_at, created_by, reason, has_stop, periods, document) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def publish(
    documents: list[ConsigneDocument],
    *,
    actor: str,
    at: datetime | None = None,
    contracts: dict[str, Contract] | None = None,
    force: Force | None = None,
    audit_details: Mapping[str, Any] | None = None,
) -> list[Published]:
    """Publish first versions of new consignes (bulk). Refuses a day already published (use a modification), an
    unknown contract, and — unless ``force``d with a reason — a day past its change deadline or a contract
    inactive or ineligible on its day (``rules.py``); a forced publication is audited with ``forced: true``.
    ``at`` stamps the versions and is the moment the deadlines are checked at (default: now).

    ``contracts`` (id → Contract) may be given when the caller already holds them; ``audit_details`` are added to
    the audit record (e.g. ``sandbox``). Rows are written with two
    DB-API ``executemany`` calls, not the ORM: publication for every contract must stay within a small factor
    of a bare bulk insert (bench/publish). The contracts' accounts and webhooks are told through the outbox
    (bulk inserts, in this transaction).
    """
    moment = at or now()
    contracts = contracts if contracts is not None else contracts_by_id(d.contract_id for d in documents)
    missing = sorted({d.contract_id for d in documents} - contracts.keys())
    if missing:
        raise _unknown(missing)
    days = sorted({d.delivery_day for d in documents})
    wanted = {(contracts[d.contract_id].pk, d.delivery_day): d.contract_id for d in documents}
    existing = Consigne.objects.filter(delivery_day__in=days).values_list("contract_id", "delivery_day").iterator()
    already = sorted((key[1], wanted[key]) for key in existing if key in wanted)
    if already:
        raise _already_published(already)
    hlars = hlars_for(days)
    audit = enforce(
        rule_problems(((contracts[d.contract_id], d.delivery_day) for d in documents), hlars, moment),
        force,
        NOTHING_DONE["published"],
    )
    ops = connection.ops
    day_value = {day: ops.adapt_datefield_value(day) for day in days}
    at_value = ops.adapt_datetimefield_value(moment)
    factory = VersionFactory(moment, actor)
    with connection.cursor() as cursor:
        cursor.executemany(
            _CONSIGNE_INSERT, [(contracts[d.contract_id].pk, day_value[d.delivery_day]) for d in documents]
        )
        ids: dict[tuple[int, date], int] = {}
        for day in days:
            cursor.execute(
                f"SELECT contract_id, id FROM {Consigne._meta.db_table} WHERE delivery_day = %s",
                [day_value[day]],
            )
            ids.update(((contract_pk, day), pk) for contract_pk, pk in cursor.fetchall())
        rows = []
        for d in documents:
            contract_pk = contracts[d.contract_id].pk
            key = (contract_pk, d.delivery_day)
            rows.append(factory.row(ids[key], contract_pk, d, 1, day_value[d.delivery_day], at_value))
        cursor.executemany(_VERSION_INSERT, rows)
        for day in days:  # each new consigne's current version is its first
            cursor.execute(_SET_FIRST_CURRENT, [day_value[day]])
    record(
        "consigne.published",
        actor=actor,
        count=len(rows),
        days=[str(d) for d in days],
        **audit,
        **(audit_details or {}),
    )
    consignes_changed(
        "consigne.published",
        [notice(contracts[d.contract_id], d, 1, factory.document(d), hlars[d.delivery_day]) for d in documents],
    )
    after_commit(VERSIONS, len(rows), "published")
    return [Published(d.contract_id, d.delivery_day, 1) for d in documents]


def _already_published(already: list[tuple[date, str]]) -> Conflict:
    """The refusal of a publication of consignes already published: their contracts, day by day."""
    by_day: dict[date, list[str]] = {}
    for day, contract_id in already:
        by_day.setdefault(day, []).append(contract_id)
    return Conflict(
        gettext_noop(
            "already published (%(count)s; an incident change goes through 'consignes modify', or leave them out "
            "with --exclude):\n%(days)s"
        ),
        count=len(already),
        days=[
            UserError(gettext_noop("delivery day %(day)s: %(ids)s"), day=day, ids=_named(ids))
            for day, ids in by_day.items()
        ],
    )


def notice(contract: Contract, doc: ConsigneDocument, number: int, document: str, hlar: datetime) -> ConsigneNotice:
    """What the e-mails and webhooks say of version ``number`` of ``doc`` (``document``: its API document)."""
    return ConsigneNotice(
        contract.pk, doc.contract_id, contract.label, doc.delivery_day, number, doc.periods, document, hlar
    )


def modify(
    documents: list[ConsigneDocument],
    *,
    reason: str,
    actor: str,
    force: Force | None = None,
    audit_details: Mapping[str, Any] | None = None,
) -> list[ConsigneVersion]:
    """Incident change: a new version (previous number + 1, with ``reason``) of each published consigne.

    All or nothing. Refused for a day never published or when the content is identical to the current version;
    unless ``force``d, after the change deadline (HLAR − cutoff of D−1) or for a contract inactive or ineligible
    on the day (``rules.py``; a forced change is audited with ``forced: true``). Locks the consignes
    (acknowledgments wait).
    The contracts' accounts are told by e-mail to acknowledge again, and their webhooks called (outbox).
    ``audit_details`` are added to each audit record (e.g. ``sandbox``).
    """
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(gettext_noop("a reason is required for an incident change"))
    reason = check_text(reason, field="reason", max_length=MAX_REASON, multiline=True)
    contracts = contracts_by_id(d.contract_id for d in documents)
    missing = sorted({d.contract_id for d in documents} - contracts.keys())
    if missing:
        raise _unknown(missing)
    days = {d.delivery_day for d in documents}
    consignes = lock_consignes([contracts[d.contract_id].pk for d in documents], days)
    moment = now()
    hlars = hlars_for(days)
    current = current_numbers(c.pk for c in consignes.values())
    errors: list[UserError] = []
    plan = []
    for doc in documents:
        consigne = consignes.get((contracts[doc.contract_id].pk, doc.delivery_day))
        where = {"contract_id": doc.contract_id, "day": doc.delivery_day}
        if consigne is None:
            errors.append(
                NotFound(
                    gettext_noop("%(contract_id)s %(day)s: never published (use 'consignes publish' or 'generate')"),
                    **where,
                )
            )
            continue
        number, periods = current[consigne.pk]
        if periods == [p.as_json() for p in doc.periods]:
            errors.append(
                Conflict(
                    gettext_noop(
                        "%(contract_id)s %(day)s: identical to the current version v%(number)s, nothing to change"
                    ),
                    **where,
                    number=number,
                )
            )
            continue
        plan.append((consigne, doc, number + 1))
    broken = rule_problems(((contracts[d.contract_id], d.delivery_day) for _, d, _ in plan), hlars, moment)
    errors = errors if force is not None else broken + errors  # a force overrides the rules, nothing else
    if errors:
        refusal = type(errors[0])  # the first problem's kind (its API status)
        raise refusal(NOTHING_DONE["changed"], problems=at_most(errors, MAX_PROBLEMS))
    audit = audit_of(force, broken)
    factory = VersionFactory(moment, actor, reason)
    versions = ConsigneVersion.objects.bulk_create([factory.version(c, d, n) for c, d, n in plan])
    for version, (consigne, _, _) in zip(versions, plan, strict=True):
        consigne.current_version = version
    Consigne.objects.bulk_update([c for c, _, _ in plan], ["current_version"], batch_size=500)
    for version, (_, doc, _) in zip(versions, plan, strict=True):
        record(
            "consigne.modified",
            actor=actor,
            contract=contracts[doc.contract_id],
            day=str(doc.delivery_day),
            version=version.number,
            reason=reason,
            **audit,
            **(audit_details or {}),
        )
    consignes_changed(
        "consigne.modified",
        [
            notice(contracts[doc.contract_id], doc, version.number, version.document, hlars[doc.delivery_day])
            for version, (_, doc, _) in zip(versions, plan, strict=True)
        ],
        reason=reason,
    )
    after_commit(VERSIONS, len(versions), "modified")
    return versions


def lock_consignes(contract_pks: list[int], days: set[date]) -> dict[tuple[int, date], Consigne]:
    """The consignes of these contracts on these days, row-locked in a stable order (PostgreSQL; SQLite's
    IMMEDIATE transactions already serialise writers)."""
    found: dict[tuple[int, date], Consigne] = {}
    for part in chunks(sorted(set(contract_pks))):
        query = Consigne.objects.select_for_update().filter(contract_id__in=part, delivery_day__in=days)
        found.update(((c.contract_id, c.delivery_day), c) for c in query.order_by("pk"))
    return found
