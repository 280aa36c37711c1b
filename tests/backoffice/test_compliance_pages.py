"""The back office's compliance pages: the months with their latest run, running (again) a month as a job with a
confirmation for a re-run, the request's progress fragment, the month's statements (summary and each contract's)
— and the refusals: a bad month, a month without consigne, a run already queued; nothing recorded then."""

from __future__ import annotations

from datetime import date

import pytest

from smartoa.billing.models import ComplianceRequest, ComplianceRun
from smartoa.billing.requests import execute, request_run, run_now
from tests.factories import at, paris

SEED = date(2025, 9, 22)
SEPT = date(2025, 9, 1)
NOW = paris("2025-10-14", "10:00")


@pytest.fixture
def month(settings, make_contract, make_consigne, load_curves):
    """Two contracts stopped 11:55–18:00 on 22/09/2025; BOA00001 produced 0.4 kWh at noon (one breach)."""
    settings.SMARTOA_NOW = NOW
    for n in (1, 2):
        contract = make_contract(f"BOA0000{n}", name=f"Centrale {n}")
        make_consigne(contract, SEED, [(at(SEED, 11, 55), at(SEED, 18), 1.0)])
        load_curves(contract.contract_id, SEED, overrides={at(SEED, 12): 0.4} if n == 1 else None)


def test_the_page_lists_the_last_twelve_months_and_the_requests(operator, month):
    run_now(SEPT, actor="ops@example.org")
    page = operator.get("/backoffice/compliance/").content.decode()
    assert "octobre 2025" in page and "novembre 2024" in page and "octobre 2024" not in page
    assert "Recalculer septembre 2025" in page and "Calculer août 2025" in page
    assert "2 sur 2 contrats" in page and "terminé" in page
    assert 'aria-current="page"' in page and ">Conformité</a>" in page


def test_running_a_month_queues_a_request_and_shows_its_progress(operator, month):
    response = operator.post("/backoffice/compliance/run/", {"month": "2025-09"})
    request = ComplianceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/backoffice/compliance/requests/{request.pk}/"
    assert (request.state, request.requested_by) == ("queued", "ops@example.org")  # the job waits for the commit
    page = operator.get(response["Location"]).content.decode()
    assert "en attente" in page and 'hx-trigger="every 2s"' in page and 'http-equiv="refresh"' in page
    execute(request.pk)
    fragment = operator.get(f"/backoffice/compliance/requests/{request.pk}/progress/").content.decode()
    assert "2 contrats évalués sur 2" in fragment and "terminé" in fragment
    assert "hx-trigger" not in fragment and "<html" not in fragment  # polling stops once done
    assert "/backoffice/compliance/2025-09/" in fragment


def test_re_running_a_month_asks_for_a_confirmation_first(operator, month):
    run_now(SEPT, actor="cli")
    response = operator.post("/backoffice/compliance/run/", {"month": "2025-09"})
    page = response.content.decode()
    assert response.status_code == 200 and "Recalculer septembre 2025 ?" in page
    assert "remplace tous les résultats du mois" in page
    assert ComplianceRequest.objects.count() == 1  # nothing queued yet
    response = operator.post("/backoffice/compliance/run/", {"month": "2025-09", "confirm": "on"})
    assert response.status_code == 302 and ComplianceRequest.objects.filter(state="queued").count() == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-9", "Indiquez un mois au format AAAA-MM"),
        ("sept-25", "Indiquez un mois au format AAAA-MM"),
        ("1999-12", "Choisissez un mois entre 2000 et 2099."),
        ("", "Ce champ est obligatoire."),
    ],
)
def test_a_bad_month_is_a_form_error_and_nothing_is_queued(operator, month, value, message):
    response = operator.post("/backoffice/compliance/run/", {"month": value})
    assert response.status_code == 400 and message in response.content.decode()
    assert not ComplianceRequest.objects.exists()


def test_a_month_without_consigne_is_refused(operator, month):
    response = operator.post("/backoffice/compliance/run/", {"month": "2024-01"})
    page = response.content.decode()
    assert response.status_code == 400 and "Refusé : rien n'a été enregistré." in page
    assert "Aucune consigne en 2024-01 : rien à contrôler" in page
    assert not ComplianceRequest.objects.exists()


def test_a_run_already_queued_is_refused(operator, month):
    request_run(SEPT, actor="other@example.org", queue=False)
    response = operator.post("/backoffice/compliance/run/", {"month": "2025-09"})
    page = response.content.decode()
    assert response.status_code == 409 and "other@example.org" in page
    assert ComplianceRequest.objects.count() == 1
    listing = operator.get("/backoffice/compliance/").content.decode()
    assert "en attente" in listing and "Recalculer septembre 2025" not in listing


def test_the_month_summary_and_a_contract_statement_on_screen(operator, month):
    run_now(SEPT, actor="cli")
    page = operator.get("/backoffice/compliance/2025-09/").content.decode()
    assert "Relevés de septembre 2025" in page
    assert "1 pas, chez 1 contrat" in page  # breaches
    assert "0,4 kWh" in page  # the energy during the stop, decimal comma
    assert "non calculable" in page and "BOA00002" in page
    only = operator.get("/backoffice/compliance/2025-09/?only=breach").content.decode()
    assert "BOA00001" in only and "/backoffice/compliance/2025-09/BOA00002/" not in only
    statement = operator.get("/backoffice/compliance/2025-09/BOA00001/").content.decode()
    assert "Relevé de BOA00001 — septembre 2025" in statement
    assert "22/09/2025 à 11:55" in statement and "22/09/2025 à 18:00" in statement
    assert "Aucune entrée de compensation" in statement or "aucune entrée de compensation" in statement
    for fmt in ("csv", "xlsx", "json"):
        assert f"/backoffice/contracts/BOA00001/statement/2025-09.{fmt}" in statement
    assert operator.get("/backoffice/contracts/BOA00001/statement/2025-09.csv").status_code == 200


def test_statement_pages_answer_404_for_a_bad_month_or_contract(operator, month):
    run_now(SEPT, actor="cli")
    assert operator.get("/backoffice/compliance/2025-13/").status_code == 404
    assert operator.get("/backoffice/compliance/2025-09/BOA99999/").status_code == 404
    assert operator.get("/backoffice/compliance/2025-08/BOA00001/").status_code == 404
    assert operator.get("/backoffice/compliance/requests/999/").status_code == 404
    not_run = operator.get("/backoffice/compliance/2025-08/").content.decode()
    assert "pas encore été calculé" in not_run


def test_producers_and_anonymous_cannot_run_compliance(client, month):
    from smartoa.accounts.models import User
    from smartoa.contracts.models import Contract
    from tests.factories import add_account, signed_in

    response = client.post("/backoffice/compliance/run/", {"month": "2025-09"})
    assert response.status_code in (302, 403)
    add_account(Contract.objects.get(contract_id="BOA00001"), "producteur@example.fr")
    signed_in(client, User.objects.get(email="producteur@example.fr"))
    assert client.post("/backoffice/compliance/run/", {"month": "2025-09"}).status_code == 403
    assert client.get("/backoffice/compliance/2025-09/").status_code == 403
    assert not ComplianceRequest.objects.exists() and not ComplianceRun.objects.exists()
