"""Back-office pages: curve upload, curve/compliance page, statement downloads; staff only."""

import json
import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smartoa.accounts.models import User
from smartoa.billing.services import run_compliance
from smartoa.domain.calendar import iso, steps
from smartoa.metering.models import CurveImport, CurveMonth
from tests.factories import at, curve_csv, make_operator, signed_in

SEED = date(2025, 9, 22)


@pytest.fixture
def staff(client, db):
    make_operator(client)
    return client


@pytest.fixture
def producer(client, db):
    signed_in(client, User.objects.create_user("producer@example.org", "a long password 123"))
    return client


@pytest.fixture
def seed_case(make_contract, make_consigne, load_curves):
    contract = make_contract("BOAXXXXX")
    make_consigne(contract, SEED, [(at(SEED, 11, 55), at(SEED, 18), 1.0)])
    load_curves("BOAXXXXX", SEED, overrides={at(SEED, 12): 0.4, at(SEED, 11, 55): 300.0})
    return contract


def chart_data(html: str) -> dict:
    found = re.search(r'<script id="curve-data" type="application/json">(.*?)</script>', html, re.DOTALL)
    return json.loads(found.group(1))


def test_day_page_shows_chart_data_and_episodes(staff, seed_case):
    response = staff.get("/backoffice/contracts/BOAXXXXX/curve/", {"day": "2025-09-22"})
    assert response.status_code == 200
    html = response.content.decode()
    data = chart_data(html)
    assert len(data["x"]) == 288
    noon, ramp = 144, 143
    assert data["breach"][noon] == 0.4 and data["breach"][ramp] is None
    assert data["neutralised"][ramp] == 300.0 and data["consigne"][noon] == 1.0 and data["consigne"][0] == 0.0
    assert "22/09/2025 à 11:55" in html and "uPlot.iife.min.js" in html
    assert "Aucun calcul de conformité" in html


def test_month_page_and_statement_downloads(staff, seed_case):
    run_compliance(date(2025, 9, 1), actor="test")
    response = staff.get("/backoffice/contracts/BOAXXXXX/curve/", {"month": "2025-09"})
    assert response.status_code == 200
    assert len(chart_data(response.content.decode())["x"]) == 30 * 288
    url = "/backoffice/contracts/BOAXXXXX/statement/2025-09"
    assert f"{url}.xlsx" in response.content.decode()
    as_json = staff.get(f"{url}.json")
    assert as_json["Content-Type"] == "application/json"
    assert json.loads(as_json.content)["totals"]["breach_steps"] == 1
    as_csv = staff.get(f"{url}.csv")
    header, *lines = as_csv.content.decode("utf-8-sig").splitlines()
    assert header.startswith("Contrat;Mois;Mois (code);Ligne;Ligne (code);Début (heure de Paris);Fin (heure de Paris)")
    total = dict(zip(header.split(";"), lines[-1].split(";"), strict=True))
    assert (total["Mois"], total["Mois (code)"], total["Ligne"]) == ("septembre 2025", "2025-09", "total du mois")
    assert (total["Pas en dépassement"], total["À recalculer"]) == ("1", "non")
    assert total["Motif"] == "aucune entrée de compensation enregistrée (productible, prix)"
    assert (total["Motif (code)"], total["Compensation"]) == ("no_inputs", "non calculable")
    as_xlsx = staff.get(f"{url}.xlsx")
    assert as_xlsx.content[:2] == b"PK" and "releve_BOAXXXXX_2025-09.xlsx" in as_xlsx["Content-Disposition"]
    assert staff.get(f"{url}.pdf").status_code == 404
    assert staff.get("/backoffice/contracts/BOAXXXXX/statement/2025-08.json").status_code == 404


def test_non_staff_is_refused(producer, client, seed_case):
    for url in [
        "/backoffice/contracts/BOAXXXXX/curve/?day=2025-09-22",
        "/backoffice/curves/upload/",
        "/backoffice/contracts/BOAXXXXX/statement/2025-09.json",
    ]:
        response = producer.get(url)
        assert response.status_code == 403 and "Page réservée aux opérateurs" in response.content.decode()
    client.logout()
    assert client.get("/backoffice/curves/upload/").status_code == 302


def test_bad_period_and_unknown_contract(staff, seed_case):
    assert staff.get("/backoffice/contracts/BOAXXXXX/curve/", {"day": "2025-13-01"}).status_code == 404
    assert staff.get("/backoffice/contracts/NOPE/curve/").status_code == 404


def test_upload_page(staff, make_contract):
    make_contract("BOA1")
    rows = [("BOA1", iso(m), 1.0) for m in steps(SEED)]
    good = SimpleUploadedFile("sept.csv", curve_csv(rows), content_type="text/csv")
    response = staff.post("/backoffice/curves/upload/", {"file": good, "kind": "realised"}, follow=True)
    assert response.status_code == 200 and "288 lignes importées" in response.content.decode()
    assert CurveImport.objects.get().source == "sept.csv (upload by ops@example.org)"
    bad = SimpleUploadedFile("bad.csv", curve_csv([*rows[:1], ("BOA1", rows[1][1], -2)]), content_type="text/csv")
    response = staff.post("/backoffice/curves/upload/", {"file": bad, "kind": "realised"})
    assert response.status_code == 400 and "line 3: negative energy" in response.content.decode()
    assert CurveImport.objects.count() == 1 and CurveMonth.objects.count() == 1


def test_admin_links(staff, seed_case):
    User.objects.filter(email="ops@example.org").update(is_superuser=True)
    page = staff.get("/admin/billing/contractcurves/")
    assert page.status_code == 200 and "/backoffice/contracts/BOAXXXXX/curve/?month=" in page.content.decode()
    assert "/backoffice/curves/upload/" in staff.get("/admin/metering/curveimport/").content.decode()
