"""Publication from an uploaded consignes file in the back office: upload → preview → publish, with the prices
path's preview and exclusions (already published, not eligible, excluded by hand), every bad document named line
by line, all or nothing, the file kept on the server between the steps and the plan compared at confirmation."""

from __future__ import annotations

import json
from datetime import date, time
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from smartoa.audit.models import AuditEvent
from smartoa.consignes.deadlines import set_hlar
from smartoa.consignes.models import Consigne, ConsigneVersion
from smartoa.domain.schedule import no_stop_periods
from tests.factories import as_json, paris, publish_day, stop_periods

DAY = date(2026, 11, 25)
NOW = paris("2026-11-24", "13:00")


@pytest.fixture
def contracts(make_contract, settings):
    settings.SMARTOA_NOW = NOW
    return {
        "BOA00001": make_contract("BOA00001"),
        "BOA00002": make_contract("BOA00002", sector="wind_onshore", power="12"),
        "BOA00003": make_contract("BOA00003"),
        "BOASMALL": make_contract("BOASMALL", power="5"),
        "BOAOFF": make_contract("BOAOFF", active=False),
    }


def consignes_file(*documents) -> SimpleUploadedFile:
    return SimpleUploadedFile("consignes.json", json.dumps(list(documents)).encode(), content_type="application/json")


def usual() -> SimpleUploadedFile:
    """BOA00001 and BOA00002 stop 11:55–18:00, BOA00003 has no stop."""
    return consignes_file(
        as_json("BOA00001", DAY, stop_periods(DAY)),
        as_json("BOA00002", DAY, stop_periods(DAY)),
        as_json("BOA00003", DAY, no_stop_periods(DAY)),
    )


def preview(client, upload=None, **data) -> dict:
    """Step 1; returns the preview's query (file digest, exclude) from the redirect."""
    response = client.post("/backoffice/publication/file/", {"file": upload or usual(), **data})
    assert response.status_code == 302, response.content.decode()
    url = urlparse(response["Location"])
    assert url.path == "/backoffice/publication/file/preview/"
    return {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}


def confirm_data(client, query) -> dict:
    page = client.get("/backoffice/publication/file/preview/", query)
    assert page.status_code == 200
    return {
        "file": query["file"],
        "exclude": page.context["exclude"],
        "fingerprint": page.context["plan"].fingerprint(),
    }


def test_upload_preview_publish(operator, contracts):
    query = preview(operator)
    assert Consigne.objects.count() == 0  # nothing published by the preview
    html = operator.get("/backoffice/publication/file/preview/", query).content.decode()
    assert "Aperçu : fichier de 3 consignes" in html
    assert "3 consignes,\n    dont 2 avec un arrêt." in html
    assert "Arrêt 11:55–18:00" in html and "2 contrats reçoivent ce programme" in html
    assert "Pas d&#x27;arrêt" in html or "Pas d'arrêt" in html
    assert "Publier 3 consignes" in html
    response = operator.post("/backoffice/publication/file/publish/", confirm_data(operator, query))
    assert response.status_code == 302 and response["Location"] == "/backoffice/?day=2026-11-25"
    versions = ConsigneVersion.objects.order_by("contract__contract_id")
    assert [v.contract.contract_id for v in versions] == ["BOA00001", "BOA00002", "BOA00003"]
    assert all(v.created_by == "ops@example.org" and v.number == 1 for v in versions)
    event = AuditEvent.objects.get(action="consigne.published")
    assert (event.actor, event.ip, event.details["count"]) == ("ops@example.org", "127.0.0.1", 3)
    page = operator.get(response["Location"]).content.decode()
    assert "3 consignes publiées depuis le fichier (livraison du 25/11/2026)." in page


def test_a_bad_file_names_every_bad_document_and_nothing_is_kept(operator, contracts):
    good = as_json("BOA00001", DAY, stop_periods(DAY))
    shifted = as_json("BOA00002", DAY, stop_periods(DAY))
    shifted["data"][1]["start_date"] = shifted["data"][1]["start_date"].replace(":55:", ":57:")
    response = operator.post(
        "/backoffice/publication/file/",
        {"file": consignes_file(good, shifted, as_json("BOATYPO", DAY, stop_periods(DAY)))},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Rien n&#x27;a été publié :\ndocument 2 : " in html
    assert "\ndocument 3 : contrat inconnu &#x27;BOATYPO&#x27;</p>" in html
    response = operator.post("/backoffice/publication/file/", {"file": SimpleUploadedFile("c.json", b"[{nope")})
    assert response.status_code == 400 and "JSON invalide" in response.content.decode()
    assert Consigne.objects.count() == 0 and not AuditEvent.objects.filter(action="consigne.published").exists()


def test_already_published_contracts_are_flagged_and_must_be_excluded(operator, contracts):
    publish_day(contracts["BOA00001"], DAY, stop_periods(DAY))
    query = preview(operator)
    html = operator.get("/backoffice/publication/file/preview/", query).content.decode()
    assert "1 consigne du fichier est déjà publiée" in html and "BOA00001 (25/11/2026)" in html
    assert "Publier 3 consignes" not in html and "Excluez d'abord les contrats déjà publiés" in html
    response = operator.post("/backoffice/publication/file/publish/", confirm_data(operator, query))
    assert response.status_code == 400 and "Déjà publiées (1 ; " in response.content.decode()
    assert ConsigneVersion.objects.count() == 1
    query["exclude"] = "BOA00001"  # what the "exclude the contracts already published" button sends
    html = operator.get("/backoffice/publication/file/preview/", query).content.decode()
    assert "Exclu à votre demande (1) : BOA00001" in html and "Publier 2 consignes" in html
    assert operator.post("/backoffice/publication/file/publish/", confirm_data(operator, query)).status_code == 302
    assert ConsigneVersion.objects.count() == 3


def test_contracts_not_eligible_that_day_are_shown_with_the_reason(operator, contracts):
    upload = consignes_file(
        as_json("BOA00001", DAY, stop_periods(DAY)),
        as_json("BOASMALL", DAY, stop_periods(DAY)),
        as_json("BOAOFF", DAY, stop_periods(DAY)),
    )
    query = preview(operator, upload)
    page = operator.get("/backoffice/publication/file/preview/", query)
    html = page.content.decode()
    assert "2 consignes visent un contrat non éligible ce jour-là" in html
    assert "5 MWc est sous le seuil de 12" in html and "contrat inactif" in html
    assert page.context["exclude_ineligible"] == "BOAOFF, BOASMALL"
    query["exclude"] = page.context["exclude_ineligible"]
    html = operator.get("/backoffice/publication/file/preview/", query).content.decode()
    assert "non éligible" not in html and "Publier 1 consigne" in html


def test_exclusions_from_both_steps_and_unknown_ids(operator, contracts):
    query = preview(operator, exclude="BOA00002\nBOA00003")
    assert query["exclude"] == "BOA00002, BOA00003"
    html = operator.get("/backoffice/publication/file/preview/", query).content.decode()
    assert "Exclus à votre demande (2) : BOA00002, BOA00003" in html and "Publier 1 consigne" in html
    query["exclude"] = "BOA00002, BOATYPO"
    response = operator.get("/backoffice/publication/file/preview/", query)
    assert response.status_code == 400 and "Contrat à exclure inconnu : BOATYPO" in response.content.decode()
    response = operator.post("/backoffice/publication/file/", {"file": usual(), "exclude": "BOATYPO"})
    assert response.status_code == 400 and "Contrat à exclure inconnu : BOATYPO" in response.content.decode()
    query["exclude"] = "BOA00001, BOA00002, BOA00003"
    html = operator.get("/backoffice/publication/file/preview/", query).content.decode()
    assert "Rien à publier : tous les contrats du fichier sont exclus." in html
    response = operator.post("/backoffice/publication/file/publish/", confirm_data(operator, query))
    assert response.status_code == 400 and "Plus aucune consigne à publier" in response.content.decode()
    assert Consigne.objects.count() == 0


def test_the_file_is_read_back_from_the_server_not_from_the_form(operator, contracts):
    from django.test import Client

    from tests.factories import make_operator

    data = confirm_data(operator, preview(operator))
    response = operator.post("/backoffice/publication/file/publish/", {**data, "file": "0" * 64}, follow=True)
    assert "Cet aperçu a expiré" in response.content.decode()
    response = operator.post("/backoffice/publication/file/publish/", {**data, "fingerprint": "0" * 64})
    assert response.status_code == 400 and "Les données ont changé depuis" in response.content.decode()
    other = Client()
    make_operator(other, "other@example.org")
    response = other.post("/backoffice/publication/file/publish/", data, follow=True)
    assert "Cet aperçu a expiré" in response.content.decode()
    assert Consigne.objects.count() == 0


def test_publication_after_the_deadline_is_refused(operator, contracts, settings):
    data = confirm_data(operator, preview(operator))
    settings.SMARTOA_NOW = paris("2026-11-24", "16:00")  # HLAR 16:30 − 30 min
    html = operator.get("/backoffice/publication/file/preview/", {"file": data["file"]}).content.decode()
    assert "Publication et modifications fermées depuis le 24/11/2026 à 16:00" in html
    response = operator.post("/backoffice/publication/file/publish/", data)
    assert response.status_code == 400
    assert "25/11/2026 : publication et modifications fermées depuis le 24/11/2026 à 16:00" in response.content.decode()
    assert Consigne.objects.count() == 0
    with transaction.atomic():
        set_hlar(DAY, time(18, 0), actor="test")  # postponed: publication opens again
    assert operator.post("/backoffice/publication/file/publish/", data).status_code == 302
    assert Consigne.objects.count() == 3


def test_a_preview_without_the_kept_file_goes_back_to_the_first_step(operator, contracts):
    response = operator.get("/backoffice/publication/file/preview/", {"file": "abc"}, follow=True)
    assert response.redirect_chain[-1][0] == "/backoffice/publication/file/"
    assert "Cet aperçu a expiré" in response.content.decode()
    assert operator.get("/backoffice/publication/file/publish/").status_code == 302


def test_the_rules_a_publication_breaks_are_listed_and_can_be_forced_with_a_reason(operator, contracts, settings):
    upload = consignes_file(as_json("BOA00001", DAY, stop_periods(DAY)), as_json("BOAOFF", DAY, stop_periods(DAY)))
    query = preview(operator, upload)
    settings.SMARTOA_NOW = paris("2026-11-24", "16:10")  # and the day is closed
    page = operator.get("/backoffice/publication/file/preview/", query)
    html = page.content.decode()
    assert "Sans forcer, ce sera refusé :" in html
    assert "publication et modifications fermées depuis le 24/11/2026 à 16:00" in html
    assert "BOAOFF" in html and "Publier 2 consignes quand même" in html
    data = confirm_data(operator, query)
    response = operator.post("/backoffice/publication/file/publish/", data)
    assert response.status_code == 400 and Consigne.objects.count() == 0
    response = operator.post("/backoffice/publication/file/publish/", {**data, "force": "on", "reason": ""})
    assert response.status_code == 400 and Consigne.objects.count() == 0
    forced = {**data, "force": "on", "reason": "publication tardive demandée par RTE"}
    assert operator.post("/backoffice/publication/file/publish/", forced).status_code == 302
    assert Consigne.objects.count() == 2
    event = AuditEvent.objects.get(action="consigne.published")
    assert (event.details["forced"], event.details["force_reason"]) == (True, "publication tardive demandée par RTE")
