"""Consigne services: publication of new versions. Callers own the transaction."""

from __future__ import annotations

import json
from datetime import datetime

from smartoa.audit.services import record
from smartoa.consignes.models import Consigne, ConsigneVersion
from smartoa.contracts.models import Contract
from smartoa.core.clock import now
from smartoa.domain.schedule import ConsigneDocument, ScheduleError, parse_document, render_document


class ConsigneError(ValueError):
    """A consigne operation refused; the message is meant for the user."""


def load_documents(text: str) -> list[ConsigneDocument]:
    """Parse a publication file (one document or a list, API format) and validate every document.

    Raises ConsigneError naming every bad document; checks contracts exist and are not repeated.
    """
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConsigneError(f"not valid JSON: {exc}") from None
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ConsigneError("the file holds no consigne")
    ids = {item.get("id") for item in items if isinstance(item, dict)}
    sectors = dict(Contract.objects.filter(contract_id__in=[i for i in ids if isinstance(i, str)]).values_list(
        "contract_id", "sector"))
    documents, errors, seen = [], [], set()
    for n, item in enumerate(items, start=1):
        try:
            doc = parse_document(item, allow_fractions=lambda cid: sectors.get(cid) == "wind_offshore")
        except ScheduleError as exc:
            errors.append(f"document {n}: {exc}")
            continue
        if doc.contract_id not in sectors:
            errors.append(f"document {n}: unknown contract {doc.contract_id!r}")
        elif (doc.contract_id, doc.delivery_day) in seen:
            errors.append(f"document {n}: {doc.contract_id} {doc.delivery_day} appears twice in the file")
        seen.add((doc.contract_id, doc.delivery_day))
        documents.append(doc)
    if errors:
        raise ConsigneError("nothing was published:\n" + "\n".join(errors))
    return documents


def publish(documents: list[ConsigneDocument], *, actor: str, at: datetime | None = None) -> list[ConsigneVersion]:
    """Publish first versions of new consignes (bulk). Refuses a day already published: use a modification."""
    moment = at or now()
    contracts = {c.contract_id: c for c in Contract.objects.filter(contract_id__in={d.contract_id for d in documents})}
    missing = sorted({d.contract_id for d in documents} - contracts.keys())
    if missing:
        raise ConsigneError(f"unknown contract(s): {', '.join(missing)}")
    days = {d.delivery_day for d in documents}
    existing = set(
        Consigne.objects.filter(contract__in=contracts.values(), delivery_day__in=days).values_list(
            "contract__contract_id", "delivery_day"
        )
    )
    already = [f"{cid} {day}" for cid, day in sorted(existing & {(d.contract_id, d.delivery_day) for d in documents})]
    if already:
        raise ConsigneError(
            "already published (an incident change goes through 'consignes modify'): " + ", ".join(already)
        )
    consignes = Consigne.objects.bulk_create(
        [Consigne(contract=contracts[d.contract_id], delivery_day=d.delivery_day) for d in documents]
    )
    versions = ConsigneVersion.objects.bulk_create(
        [new_version(c, d, number=1, at=moment, actor=actor) for c, d in zip(consignes, documents, strict=True)]
    )
    record("consigne.published", actor=actor, count=len(versions), days=sorted(str(d) for d in days))
    return versions


def new_version(consigne: Consigne, doc: ConsigneDocument, *, number: int, at: datetime, actor: str, reason: str = ""):
    """An unsaved ConsigneVersion for ``doc``, its API document rendered once, stamped ``at``."""
    return ConsigneVersion(
        consigne=consigne,
        contract_id=consigne.contract_id,
        delivery_day=doc.delivery_day,
        number=number,
        created_at=at,
        created_by=actor,
        reason=reason,
        has_stop=doc.has_stop,
        periods=[p.as_json() for p in doc.periods],
        document=render_document(doc.contract_id, at, doc.delivery_day, doc.periods).decode(),
    )
