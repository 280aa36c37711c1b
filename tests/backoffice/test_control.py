"""The control screen: tomorrow's publication and acknowledgment board — counts, the missing contracts first,
filters, pagination, the HLAR (postponed included) and the time left, CSV and Excel exports from the same columns,
and a number of queries that does not grow with the number of contracts."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from smartoa.accounts.models import User
from smartoa.audit.models import AuditEvent
from smartoa.consignes.deadlines import set_hlar
from smartoa.consignes.services import publish
from smartoa.contracts.importing import import_contracts, parse_contracts_csv
from smartoa.contracts.models import Contract
from smartoa.domain.schedule import ConsigneDocument, no_stop_periods
from smartoa.jobs.engine import SCHEDULED
from smartoa.jobs.models import JobRun
from smartoa.notifications.models import OutboxMessage
from tests.factories import acknowledge, paris, publish_day, stop_periods

DAY = date(2026, 11, 25)
NOW = paris("2026-11-24", "14:00")
HEADER = "contract_id,name,sector,installed_power,power_unit,holder_email,manager_email,network_id\n"


@pytest.fixture
def day_of_contracts(make_contract, settings):
    """Tomorrow (the 25th): BOA00001 acknowledged through the API, BOA00002 published without a stop and not
    acknowledged, BOA00003 eligible and unpublished; BOASMALL out of scope."""
    with transaction.atomic():
        import_contracts(
            parse_contracts_csv(
                HEADER
                + "BOA00001,Centrale de Beauce,pv,15,MWc,holder@example.fr,manager@example.fr,\n"
                + "BOA00002,Parc des Crêtes,wind_onshore,12,MW,holder@example.fr,,\n"
                + "BOA00003,Toits de Lyon,pv,13,MWc,lyon@example.fr,,\n"
            ),
            actor="test",
        )
    make_contract("BOASMALL", power="5")
    contracts = {c.contract_id: c for c in Contract.objects.all()}
    publish_day(contracts["BOA00001"], DAY, stop_periods(DAY))
    publish_day(contracts["BOA00002"], DAY, no_stop_periods(DAY))
    acknowledge(contracts["BOA00001"], DAY, actor="api:soa_1234", channel="api", moment=paris("2026-11-24", "11:02"))
    settings.SMARTOA_NOW = NOW
    return contracts


def test_the_screen_says_what_is_published_and_who_has_not_acknowledged(operator, day_of_contracts):
    response = operator.get("/backoffice/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Consignes du mercredi 25 novembre 2026" in html
    assert "24/11/2026 à 16:30" in html and "encore 2 h 30 min" in html
    assert "2 contrats ont une consigne" in html and "dont 1 avec un arrêt" in html
    assert "1 contrat éligible n'a pas de consigne" in html and "BOA00003" in html
    assert "Acquiescements manquants : <strong>1</strong> sur 2 consignes publiées" in html
    rows = board(response)
    assert rows.index("BOA00002") < rows.index("BOA00003") < rows.index("BOA00001")  # missing ones first
    assert "api:soa_1234" in rows and "24/11/2026 à 11:02" in rows
    assert "holder@example.fr (Producteur)" in rows and "manager@example.fr (Gestionnaire)" in rows
    assert "BOASMALL" not in html


def board(response) -> str:
    """The board's table rows of a page."""
    html = response.content.decode()
    return html[html.index("<tbody>") :]


def test_filter_by_state_and_pagination(operator, day_of_contracts, make_contract):
    for n in range(60):
        make_contract(f"BOA1{n:04d}")
    first = operator.get("/backoffice/", {"state": "not_published"})
    assert "BOA10000" in board(first) and "BOA00001" not in board(first)
    assert "Page 1 sur 2" in board(first) and "state=not_published&amp;page=2" in board(first)
    second = operator.get("/backoffice/", {"state": "not_published", "page": "2"})
    assert "BOA10059" in board(second) and "BOA10000" not in board(second)
    done = operator.get("/backoffice/", {"state": "done"})
    assert "BOA00001" in board(done) and "BOA00002" not in board(done)


def test_a_postponed_hlar_and_after_hlar(operator, day_of_contracts, settings):
    with transaction.atomic():
        set_hlar(DAY, time(17, 15), actor="ops@example.org")
    html = operator.get("/backoffice/").content.decode()
    assert "24/11/2026 à 17:15" in html and "fixée par ops@example.org" in html and "encore 3 h 15 min" in html
    settings.SMARTOA_NOW = paris("2026-11-24", "17:15")
    html = operator.get("/backoffice/").content.decode()
    assert "passée : acquiescements verrouillés" in html and "Non acquiescée, HLAR passée" in html


def test_another_day_and_a_bad_day(operator, day_of_contracts):
    assert "Consignes du jeudi 26 novembre 2026" in operator.get("/backoffice/", {"day": "2026-11-26"}).content.decode()
    response = operator.get("/backoffice/", {"day": "1999-01-01"})
    assert response.status_code == 400 and "Consignes du mercredi 25 novembre 2026" in response.content.decode()


def test_csv_and_excel_exports_have_the_screen_columns(operator, day_of_contracts):
    response = operator.get("/backoffice/", {"export": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="acquiescements_2026-11-25.csv"'
    rows = people_csv(response.content)
    assert [r["Contrat"] for r in rows] == ["BOA00002", "BOA00003", "BOA00001"]
    first, last = rows[0], rows[-1]
    assert (first["État"], first["État (code)"], first["Version en vigueur"]) == ("À acquiescer", "to_do", "1")
    assert first["Acquiescée par"] == ""
    assert (last["État"], last["Le (heure de Paris)"]) == ("Acquiescée", "24/11/2026 11:02")
    assert (last["Canal"], last["Canal (code)"]) == ("API", "api")
    assert list(rows[0]) == [
        "Contrat",
        "Installation",
        "État",
        "État (code)",
        "Version en vigueur",
        "Version acquiescée",
        "Acquiescée par",
        "Le (heure de Paris)",
        "Canal",
        "Canal (code)",
        "Comptes",
        "Dernier appel API (heure de Paris)",
        "Adresse du dernier appel API",
        "Dernière connexion au flux d'événements (heure de Paris)",
        "Adresse de la dernière connexion au flux",
        "Dernier webhook livré (heure de Paris)",
    ]
    missing = operator.get("/backoffice/", {"export": "xlsx", "state": "to_do"})
    strings = xlsx_strings(missing.content)
    assert {"Contrat", "Le (heure de Paris)", "BOA00002", "À acquiescer", "to_do"} <= strings
    assert "BOA00001" not in strings
    export = AuditEvent.objects.filter(action="export.board").last()
    assert export.actor == "ops@example.org" and export.ip == "127.0.0.1"


def test_exports_follow_the_language(operator, day_of_contracts):
    User.objects.filter(email="ops@example.org").update(language="en")
    response = operator.get("/backoffice/", {"export": "csv"})
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:4] == ["Contract", "Plant", "Status", "Status (code)"]
    assert rows[0]["Status"] == "To acknowledge" and rows[-1]["Channel"] == "API"


def people_csv(content: bytes) -> list[dict]:
    """A CSV download for a French spreadsheet: UTF-8 with a byte-order mark, ';' between cells."""
    assert content.startswith("\ufeff".encode()), "no byte-order mark: Excel would read the accents wrong"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def xlsx_strings(content: bytes) -> set[str]:
    """The texts of an Excel file's cells."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        shared = book.read("xl/sharedStrings.xml").decode()
    return set(re.findall(r"<t[^>]*>([^<]*)</t>", shared))


def add_contracts(first: int, count: int) -> None:
    """``count`` more eligible contracts: a third unpublished, the rest published, half of those acknowledged."""
    ids = [f"BOA{n:05d}" for n in range(first, first + count)]
    Contract.objects.bulk_create(
        Contract(contract_id=cid, name=f"Parc {cid}", sector="pv", installed_power=Decimal(15), power_unit="MWc")
        for cid in ids
    )
    published = [cid for n, cid in enumerate(ids) if n % 3]
    with transaction.atomic():
        publish([ConsigneDocument(cid, DAY, stop_periods(DAY)) for cid in published], actor="test", at=NOW)
    for cid in published[::2]:
        acknowledge(Contract.objects.get(contract_id=cid), DAY, moment=NOW)


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_queries_do_not_grow_with_the_number_of_contracts(operator, settings):
    settings.SMARTOA_NOW = NOW
    urls = ("/backoffice/", "/backoffice/?state=to_do", "/backoffice/?state=done&page=2")
    add_contracts(0, 10)
    few = {url: queries_of(operator, url) for url in urls}
    add_contracts(10, 290)
    assert {url: queries_of(operator, url) for url in urls} == few


def test_failing_deliveries_and_jobs_that_did_not_run(operator, day_of_contracts):
    moment = paris("2026-11-24", "13:40")
    common = {"next_attempt_at": moment, "created_at": moment, "updated_at": moment}
    OutboxMessage.objects.create(
        kind="webhook",
        event="consigne.published",
        recipient="https://scada.example.fr/hook",
        contract=day_of_contracts["BOA00001"],
        status="failed",
        attempts=6,
        last_error="HTTP 503 from https://scada.example.fr/hook",
        **common,
    )
    OutboxMessage.objects.create(kind="email", event="x", recipient="ok@example.fr", status="delivered", **common)
    names = sorted(SCHEDULED)
    late, fine = names[0], names[1]
    JobRun.objects.create(name=late, started_at=moment, finished_at=moment, outcome="failed", message="boom")
    JobRun.objects.create(name=fine, started_at=NOW, finished_at=NOW, outcome="succeeded")
    html = operator.get("/backoffice/").content.decode()
    health = html[html.index("Fonctionnement de la plateforme") :]
    assert "en échec" in health and "HTTP 503 from https://scada.example.fr/hook" in health
    assert "webhook · Consignes publiées" in health and "BOA00001" in health and "6 essais" in health
    assert "ok@example.fr" not in health  # delivered
    assert "en retard" in job_item(health, SCHEDULED[late].label) and "échoué" in job_item(
        health, SCHEDULED[late].label
    )
    assert "à l'heure" in job_item(health, SCHEDULED[fine].label)
    assert "Jamais exécutée." in job_item(health, SCHEDULED[names[2]].label)


def job_item(html: str, label: str) -> str:
    """The list item of the job ``label`` on the control screen."""
    found = re.search(r"<li>\s*<strong>" + re.escape(escape(str(label))) + r"</strong>(.*?)</li>", html, re.DOTALL)
    assert found, label
    return found.group(1).replace("&#x27;", "'")
