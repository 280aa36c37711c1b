"""The portal's exports are for people: a French spreadsheet opens them right, codes are words (the codes kept in
their own column), times are Paris times; JSON stays the API's."""

from __future__ import annotations

import io
import json
from datetime import datetime

import openpyxl
import pytest
from django.db import transaction
from django.test import Client

from smartoa.consignes.acknowledgments import acknowledge
from smartoa.contracts.models import Contract
from tests.backoffice.test_control import people_csv
from tests.factories import signed_in
from tests.portal.conftest import TOMORROW

pytestmark = pytest.mark.django_db(transaction=True)


def export(client: Client, what: str, fmt: str):
    query = {"what": what, "start": "2026-11-24", "end": "2026-11-26", "fmt": fmt}
    return client.get("/contrats/BOA00001/exports/", query)


def test_acknowledgments_for_people_and_for_machines(producer):
    contract = Contract.objects.get(contract_id="BOA00001")
    with transaction.atomic():
        acknowledge(contract, TOMORROW, actor=producer.email, channel="portal", ip="203.0.113.5")
    client = Client()
    signed_in(client, producer)
    response = export(client, "acquiescements", "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    [row] = people_csv(response.content)
    assert (row["Canal"], row["Canal (code)"], row["Adresse"]) == ("Portail", "portal", "203.0.113.5")
    assert (row["Jour de livraison"], row["Acquiescée le (heure de Paris)"]) == ("25/11/2026", "24/11/2026 10:00")
    sheet = openpyxl.load_workbook(io.BytesIO(export(client, "acquiescements", "xlsx").content)).active
    header, values = (list(r) for r in sheet.iter_rows(values_only=True))
    assert header[:2] == ["Contrat", "Jour de livraison"] and isinstance(values[1], datetime)
    assert values[header.index("Canal")] == "Portail"
    [machine] = json.loads(export(client, "acquiescements", "json").content)
    assert (machine["channel"], machine["application_date"]) == ("portal", "2026-11-25")
    assert machine["acknowledged_at"] == "2026-11-24T10:00:00+01:00"


def test_consignes_in_english_use_the_english_separators(producer):
    producer.language = "en"
    producer.save(update_fields=["language"])
    client = Client()
    signed_in(client, producer)
    body = export(client, "consignes", "csv").content
    assert body.startswith("\ufeffContract,Delivery day,Version,".encode())
    assert b",stop,1\r\n" in body and b",production,0\r\n" in body
