"""Consignes and acknowledgments as tables and documents, one column list each, for the portal's downloads and
exports (JSON, CSV, Excel through ``exports/writers.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

from smartoa.consignes.models import Acknowledgment, ConsigneVersion
from smartoa.domain.calendar import iso
from smartoa.exports.writers import Column, render

CONSIGNE_COLUMNS = [
    Column("id", "contrat"),
    Column("application_date", "date de livraison"),
    Column("version", "version"),
    Column("update_date", "date de mise à jour"),
    Column("start_date", "début"),
    Column("end_date", "fin"),
    Column("value", "effacement (1 = arrêt)"),
]
ACKNOWLEDGMENT_COLUMNS = [
    Column("id", "contrat"),
    Column("application_date", "date de livraison"),
    Column("version", "version acquiescée"),
    Column("acknowledged_at", "acquiescé le"),
    Column("channel", "canal"),
    Column("actor", "par"),
    Column("ip", "adresse"),
]


def consigne_rows(contract_id: str, versions: Iterable[ConsigneVersion]) -> list[dict]:
    """One row per period of each version."""
    return [
        {
            "id": contract_id,
            "application_date": v.delivery_day.isoformat(),
            "version": v.number,
            "update_date": iso(v.created_at),
            **period,
        }
        for v in versions
        for period in v.periods
    ]


def consignes_file(contract_id: str, versions: list[ConsigneVersion], fmt: str) -> bytes:
    """The consignes in ``fmt``: JSON is the API's documents (a list), exactly as stored; CSV and Excel one line
    per period."""
    if fmt == "json":
        return ("[\n" + ",\n".join(v.document for v in versions) + "\n]\n").encode()
    return render(
        fmt, document=None, rows=consigne_rows(contract_id, versions), columns=CONSIGNE_COLUMNS, sheet="consignes"
    )


def acknowledgment_rows(contract_id: str, acknowledgments: Iterable[Acknowledgment]) -> list[dict]:
    return [
        {
            "id": contract_id,
            "application_date": a.version.delivery_day.isoformat(),
            "version": a.version.number,
            "acknowledged_at": iso(a.acknowledged_at),
            "channel": a.channel,
            "actor": a.actor,
            "ip": a.ip,
        }
        for a in acknowledgments
    ]


def acknowledgments_file(contract_id: str, acknowledgments: list[Acknowledgment], fmt: str) -> bytes:
    rows = acknowledgment_rows(contract_id, acknowledgments)
    if fmt == "json":
        return (json.dumps(rows, indent=2, ensure_ascii=False) + "\n").encode()
    return render(fmt, document=None, rows=rows, columns=ACKNOWLEDGMENT_COLUMNS, sheet="acquiescements")


def acknowledgments_between(contract_pk: int, first: date, last: date) -> list[Acknowledgment]:
    """The contract's acknowledgments of the days in [first, last], by day then time."""
    return list(
        Acknowledgment.objects.filter(consigne__contract_id=contract_pk, consigne__delivery_day__range=(first, last))
        .select_related("version")
        .order_by("consigne__delivery_day", "acknowledged_at", "pk")
    )
