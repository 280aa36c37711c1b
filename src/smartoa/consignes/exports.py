"""Consignes and acknowledgments as tables and documents, one column list each, for the portal's downloads and
exports (JSON, CSV, Excel through ``exports/writers.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

from django.utils.translation import gettext_lazy as _

from smartoa.consignes.models import Acknowledgment, ConsigneVersion
from smartoa.domain.calendar import iso, parse_instant
from smartoa.exports.writers import Column, render


def _channel(code: str) -> str:
    return Acknowledgment.Channel(code).label


def _stop(value: int) -> str:
    return str(_("arrêt") if value else _("production"))


CONSIGNE_COLUMNS = [
    Column("id", _("Contrat")),
    Column("application_date", _("Jour de livraison")),
    Column("version", _("Version")),
    Column("update_date", _("Publiée le (heure de Paris)")),
    Column("start_date", _("Début (heure de Paris)")),
    Column("end_date", _("Fin (heure de Paris)")),
    Column("value", _("Consigne"), words=_stop),
]
ACKNOWLEDGMENT_COLUMNS = [
    Column("id", _("Contrat")),
    Column("application_date", _("Jour de livraison")),
    Column("version", _("Version acquiescée")),
    Column("acknowledged_at", _("Acquiescée le (heure de Paris)")),
    Column("channel", _("Canal"), words=_channel),
    Column("actor", _("Par")),
    Column("ip", _("Adresse")),
]


def consigne_rows(contract_id: str, versions: Iterable[ConsigneVersion]) -> list[dict]:
    """One row per period of each version."""
    return [
        {
            "id": contract_id,
            "application_date": v.delivery_day,
            "version": v.number,
            "update_date": v.created_at,
            "start_date": parse_instant(period["start_date"]),
            "end_date": parse_instant(period["end_date"]),
            "value": int(period["value"]),
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
            "application_date": a.version.delivery_day,
            "version": a.version.number,
            "acknowledged_at": a.acknowledged_at,
            "channel": a.channel,
            "actor": a.actor,
            "ip": a.ip,
        }
        for a in acknowledgments
    ]


def acknowledgments_file(contract_id: str, acknowledgments: list[Acknowledgment], fmt: str) -> bytes:
    rows = acknowledgment_rows(contract_id, acknowledgments)
    if fmt == "json":
        document = [
            {**r, "application_date": r["application_date"].isoformat(), "acknowledged_at": iso(r["acknowledged_at"])}
            for r in rows
        ]
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    return render(fmt, document=None, rows=rows, columns=ACKNOWLEDGMENT_COLUMNS, sheet="acquiescements")


def acknowledgments_between(contract_pk: int, first: date, last: date) -> list[Acknowledgment]:
    """The contract's acknowledgments of the days in [first, last], by day then time."""
    return list(
        Acknowledgment.objects.filter(consigne__contract_id=contract_pk, consigne__delivery_day__range=(first, last))
        .select_related("version")
        .order_by("consigne__delivery_day", "acknowledged_at", "pk")
    )
