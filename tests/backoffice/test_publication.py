"""Publication from prices in the back office: upload → preview → publish, with the command line's checks and
audit, the prices kept on the server between the steps, the plan built again and compared at confirmation, and
the publication deadline; incident modifications; the HLAR."""

from __future__ import annotations

import json
from datetime import date, time
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from smartoa.audit.models import AuditEvent
from smartoa.consignes.deadlines import hlar_for, set_hlar
from smartoa.consignes.models import Consigne, ConsigneVersion, HlarOverride
from smartoa.domain.calendar import STEP_15, iso, steps
from tests.factories import as_json, paris, periods_with, publish_day, stop_periods

DAY = date(2026, 11, 25)
NOW = paris("2026-11-24", "13:00")


def prices(day=DAY, negative=range(48, 72)) -> str:
    lines = ["start,price"] + [
        f"{iso(moment)},{-12.5 if n in negative else 35.2}" for n, moment in enumerate(steps(day, STEP_15))
    ]
    return "\n".join(lines) + "\n"


def upload(text: str, name: str = "prix.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


@pytest.fixture
def contracts(make_contract, settings):
    settings.SMARTOA_NOW = NOW
    return {
        "BOA00001": make_contract("BOA00001"),
        "BOA00002": make_contract("BOA00002", sector="wind_onshore", power="12"),
        "BOASMALL": make_contract("BOASMALL", power="5"),
        "BOAOFF": make_contract("BOAOFF", active=False),
    }


def preview(client, **data):
    """Step 1; returns the preview's query (day, prices digest, exclude) from the redirect."""
    response = client.post("/backoffice/publication/", {"day": DAY.isoformat(), "prices": upload(prices()), **data})
    assert response.status_code == 302, response.content.decode()
    url = urlparse(response["Location"])
    assert url.path == "/backoffice/publication/preview/"
    return {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}


def confirm_data(client, query) -> dict:
    """The confirmation form of the preview, as the page holds it."""
    page = client.get("/backoffice/publication/preview/", query)
    assert page.status_code == 200
    context = page.context
    return {
        "day": query["day"],
        "prices": query["prices"],
        "exclude": context["exclude"],
        "fingerprint": context["plan"].fingerprint(),
    }


def test_upload_preview_publish(operator, contracts):
    query = preview(operator)
    assert Consigne.objects.count() == 0  # nothing published by the preview
    html = operator.get("/backoffice/publication/preview/", query).content.decode()
    assert "Aperçu : consignes du mercredi 25 novembre 2026" in html
    assert "Arrêt 11:55–18:00" in html and "2 contrats reçoivent ce programme" in html
    assert "BOA00001" in html and "BOA00002" in html
    assert "BOASMALL" in html and "5 MWc est sous le seuil de 12" in html  # ineligible, with the reason
    assert "BOAOFF" not in html  # inactive contracts are not listed
    assert "Publier 2 consignes" in html
    response = operator.post("/backoffice/publication/publish/", confirm_data(operator, query))
    assert response.status_code == 302 and response["Location"] == "/backoffice/?day=2026-11-25"
    versions = ConsigneVersion.objects.order_by("contract__contract_id")
    assert [v.contract.contract_id for v in versions] == ["BOA00001", "BOA00002"]
    assert all(v.created_by == "ops@example.org" and v.has_stop for v in versions)
    event = AuditEvent.objects.get(action="consigne.published")
    assert (event.actor, event.ip, event.details["count"]) == ("ops@example.org", "127.0.0.1", 2)
    page = operator.get(response["Location"]).content.decode()
    assert "2 consignes publiées pour le 25/11/2026 : Arrêt 11:55–18:00." in page


def test_exclusions_from_the_first_step_and_from_the_preview(operator, contracts):
    query = preview(operator, exclude="BOA00002")
    assert query["exclude"] == "BOA00002"
    html = operator.get("/backoffice/publication/preview/", query).content.decode()
    assert "Exclu à votre demande (1) : BOA00002" in html and "Publier 1 consigne" in html
    query["exclude"] = ""
    assert "Publier 2 consignes" in operator.get("/backoffice/publication/preview/", query).content.decode()
    query["exclude"] = "BOA00002, BOATYPO"  # a typo: the preview stays, without it, and says so
    response = operator.get("/backoffice/publication/preview/", query)
    html = response.content.decode()
    assert response.status_code == 400 and "Contrat à exclure inconnu : BOATYPO" in html
    assert "Exclu à votre demande (1) : BOA00002" in html and "BOA00002, BOATYPO</textarea>" in html
    query["exclude"] = "BOA00001\nBOA00002"
    data = confirm_data(operator, query)
    response = operator.post("/backoffice/publication/publish/", data)
    assert (
        response.status_code == 400
        and "Plus aucun contrat éligible à publier pour le 25/11/2026" in response.content.decode()
    )


def test_a_bad_price_file_names_the_line_and_nothing_is_kept(operator, contracts):
    lines = prices().splitlines()
    lines[10] = lines[10].replace(":15:00", ":20:00")
    response = operator.post("/backoffice/publication/", {"day": DAY.isoformat(), "prices": upload("\n".join(lines))})
    html = response.content.decode()
    assert response.status_code == 400
    assert (
        "Fichier de prix refusé pour le 25/11/2026 (96 quarts d&#x27;heure attendus) :\n"
        "ligne 11 : 25/11/2026 à 02:20 n&#x27;est pas le début d&#x27;un quart d&#x27;heure\n"
        "quart d&#x27;heure manquant : 25/11/2026 à 02:15</p>"
    ) in html
    assert Consigne.objects.count() == 0 and not AuditEvent.objects.filter(action="consigne.published").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"exclude": "BOATYPO"}, "Contrat à exclure inconnu : BOATYPO"),
        ({"prices": None}, "Ce champ est obligatoire"),
        ({"day": "2026-13-01"}, "Saisissez une date valide"),
        ({"day": "2026-11-26"}, "aucune ligne n&#x27;est un quart d&#x27;heure du 26/11/2026"),
        ({"prices": SimpleUploadedFile("p.csv", b"\xff\xfe\x00")}, "encodé en UTF-8"),
    ],
)
def test_first_step_refusals(operator, contracts, data, message):
    form = {"day": DAY.isoformat(), "prices": upload(prices()), **data}
    response = operator.post("/backoffice/publication/", {k: v for k, v in form.items() if v is not None})
    assert response.status_code == 400 and message in response.content.decode()


def test_already_published_contracts_are_flagged_and_must_be_excluded(operator, contracts):
    publish_day(contracts["BOA00001"], DAY, stop_periods(DAY))
    query = preview(operator)
    html = operator.get("/backoffice/publication/preview/", query).content.decode()
    assert "1 contrat a déjà une consigne ce jour-là" in html and "BOA00001 (déjà publié)" in html
    assert "Publier 2 consignes" not in html and "Excluez d'abord les contrats déjà publiés" in html
    response = operator.post("/backoffice/publication/publish/", confirm_data(operator, query))
    assert response.status_code == 400 and "Déjà publiées (1 ; " in response.content.decode()
    assert ":\nlivraison du 25/11/2026 : BOA00001</p>" in response.content.decode()
    assert ConsigneVersion.objects.count() == 1
    query["exclude"] = "BOA00001"  # what the "exclude the contracts already published" button sends
    assert operator.post("/backoffice/publication/publish/", confirm_data(operator, query)).status_code == 302
    assert ConsigneVersion.objects.count() == 2


def test_the_prices_are_read_back_from_the_server_not_from_the_form(operator, contracts):
    query = preview(operator)
    data = confirm_data(operator, query)
    tampered = {**data, "prices": "0" * 64}
    response = operator.post("/backoffice/publication/publish/", tampered, follow=True)
    assert "Cet aperçu a expiré" in response.content.decode() and Consigne.objects.count() == 0
    changed = {**data, "fingerprint": "0" * 64}
    response = operator.post("/backoffice/publication/publish/", changed)
    assert response.status_code == 400 and "Les données ont changé depuis" in response.content.decode()
    assert Consigne.objects.count() == 0


def test_a_contract_that_became_eligible_after_the_preview_stops_the_publication(operator, contracts, make_contract):
    data = confirm_data(operator, preview(operator))
    make_contract("BOA00003")
    response = operator.post("/backoffice/publication/publish/", data)
    html = response.content.decode()
    assert response.status_code == 400 and "Les données ont changé depuis" in html
    assert "Publier 3 consignes" in html and Consigne.objects.count() == 0  # the new preview, to confirm again


def test_another_operator_cannot_use_the_kept_prices(operator, contracts, client):
    from django.test import Client

    from tests.factories import make_operator

    data = confirm_data(operator, preview(operator))
    other = Client()
    make_operator(other, "other@example.org")
    response = other.post("/backoffice/publication/publish/", data, follow=True)
    assert "Cet aperçu a expiré" in response.content.decode() and Consigne.objects.count() == 0


def test_publication_after_the_deadline_is_refused(operator, contracts, settings):
    data = confirm_data(operator, preview(operator))
    settings.SMARTOA_NOW = paris("2026-11-24", "16:00")  # HLAR 16:30 − 30 min
    html = operator.get("/backoffice/publication/preview/", {k: data[k] for k in ("day", "prices")}).content.decode()
    assert "La publication de ce jour est fermée." in html and "Reporter l'HLAR" in html
    response = operator.post("/backoffice/publication/publish/", data)
    assert response.status_code == 400
    assert "25/11/2026 : publication et modifications fermées depuis le 24/11/2026 à 16:00" in response.content.decode()
    assert Consigne.objects.count() == 0
    with transaction.atomic():
        set_hlar(DAY, time(18, 0), actor="test")  # postponed: publication opens again
    assert operator.post("/backoffice/publication/publish/", data).status_code == 302
    assert Consigne.objects.count() == 2


def test_a_preview_without_kept_prices_goes_back_to_the_first_step(operator, contracts):
    response = operator.get("/backoffice/publication/preview/", {"day": "2026-11-25", "prices": "abc"}, follow=True)
    assert response.redirect_chain[-1][0] == "/backoffice/publication/"
    assert "Cet aperçu a expiré" in response.content.decode()


# --- incident modification --------------------------------------------------------------------------------


def modification(contract_id="BOA00001", day=DAY, stops=((11, 13),)):
    periods = periods_with(
        day, [(paris(day.isoformat(), f"{a:02d}:00"), paris(day.isoformat(), f"{b:02d}:00"), 1.0) for a, b in stops]
    )
    return SimpleUploadedFile("modif.json", json.dumps(as_json(contract_id, day, periods)).encode())


def test_modification_creates_a_new_version_with_the_reason(operator, contracts, emails):
    with transaction.atomic():
        from smartoa.contracts.services import assign_role

        assign_role(contracts["BOA00001"], "holder@example.fr", "holder", actor="test")
    publish_day(contracts["BOA00001"], DAY, stop_periods(DAY))
    response = operator.post(
        "/backoffice/publication/modify/", {"file": modification(), "reason": "prix corrigés par EPEX"}, follow=True
    )
    html = response.content.decode()
    assert "BOA00001, livraison du 25/11/2026 : version 2 publiée (Arrêt 11:00–13:00)" in html
    version = ConsigneVersion.objects.get(number=2)
    assert (version.reason, version.created_by) == ("prix corrigés par EPEX", "ops@example.org")
    event = AuditEvent.objects.get(action="consigne.modified")
    assert (event.actor, event.ip, event.details["reason"]) == (
        "ops@example.org",
        "127.0.0.1",
        "prix corrigés par EPEX",
    )
    assert emails("holder@example.fr")  # told to acknowledge again


@pytest.mark.parametrize(
    ("setup", "data", "message"),
    [
        ("published", {"reason": ""}, "Ce champ est obligatoire"),
        ("published", {"file": SimpleUploadedFile("m.json", b"{nope")}, "JSON invalide"),
        ("none", {}, "Rien n&#x27;a été modifié :\nBOA00001 du 25/11/2026 : jamais publiée"),
        ("published", {"file": "same"}, "BOA00001 du 25/11/2026 : identique à la version en vigueur v1"),
        ("late", {}, "modifications fermées depuis le 24/11/2026 à 16:00 (HLAR 24/11/2026 à 16:30 − 30 min)"),
        (
            "published",
            {"file": "unknown"},
            "Rien n&#x27;a été modifié :\ndocument 1 : contrat inconnu &#x27;BOATYPO&#x27;",
        ),
    ],
)
def test_modification_refusals_change_nothing(operator, contracts, settings, setup, data, message):
    if setup != "none":
        publish_day(contracts["BOA00001"], DAY, stop_periods(DAY))
    if setup == "late":
        settings.SMARTOA_NOW = paris("2026-11-24", "16:00")
    form = {"file": modification(), "reason": "incident", **data}
    if form["file"] == "same":
        form["file"] = SimpleUploadedFile("m.json", json.dumps(as_json("BOA00001", DAY, stop_periods(DAY))).encode())
    elif form["file"] == "unknown":
        form["file"] = modification("BOATYPO")
    response = operator.post("/backoffice/publication/modify/", form)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ConsigneVersion.objects.filter(number=2).exists()
    assert not AuditEvent.objects.filter(action="consigne.modified").exists()


# --- HLAR -------------------------------------------------------------------------------------------------


def test_hlar_shown_and_postponed(operator, contracts):
    html = operator.get("/backoffice/hlar/").content.decode()
    assert "24/11/2026 à 16:30" in html and "heure par défaut" in html
    response = operator.post("/backoffice/hlar/", {"day": "2026-11-25", "time": "17:30"}, follow=True)
    html = response.content.decode()
    assert "HLAR du 25/11/2026 fixée au 24/11/2026 à 17:30 ; elle était au 24/11/2026 16:30." in html
    assert "Modifications acceptées jusqu&#x27;à 17:00, acquiescements jusqu&#x27;à 17:30, le 24/11/2026." in html
    assert "fixée par ops@example.org" in html
    assert hlar_for(DAY) == paris("2026-11-24", "17:30")
    event = AuditEvent.objects.get(action="hlar.set")
    assert (event.actor, event.ip, event.details["forced"]) == ("ops@example.org", "127.0.0.1", False)


def test_hlar_refusals_and_force(operator, contracts, settings):
    settings.SMARTOA_NOW = paris("2026-11-24", "17:00")  # the 25th's HLAR has passed
    response = operator.post("/backoffice/hlar/", {"day": "2026-11-25", "time": "18:00"})
    assert (
        response.status_code == 400
        and "L&#x27;HLAR du 25/11/2026 est passée le 24/11/2026 à 16:30" in response.content.decode()
    )
    settings.SMARTOA_NOW = paris("2026-11-24", "16:00")  # open, but 15:00 is already past: never, even forced
    response = operator.post("/backoffice/hlar/", {"day": "2026-11-25", "time": "15:00", "force": "on", "reason": "x"})
    assert (
        response.status_code == 400
        and "ne peut pas être avancée au 24/11/2026 à 15:00" in response.content.decode()
        and "au plus tôt le 24/11/2026 à 16:30" in response.content.decode()
    )
    assert not HlarOverride.objects.exists()
    settings.SMARTOA_NOW = paris("2026-11-24", "17:00")
    response = operator.post("/backoffice/hlar/", {"day": "2026-11-25", "time": "18:00", "force": "on"})
    assert response.status_code == 400 and "motif est obligatoire pour forcer" in response.content.decode()
    response = operator.post(
        "/backoffice/hlar/", {"day": "2026-11-25", "time": "18:00", "force": "on", "reason": "RTE rouvre"}
    )
    assert response.status_code == 302 and hlar_for(DAY) == paris("2026-11-24", "18:00")
    details = AuditEvent.objects.get(action="hlar.set").details
    assert (details["forced"], details["force_reason"]) == (True, "RTE rouvre")
    for bad in ("25:00", "7h30"):
        response = operator.post("/backoffice/hlar/", {"day": "2026-11-25", "time": bad})
        assert response.status_code == 400 and "n&#x27;est pas une heure HH:MM" in response.content.decode()
    response = operator.post("/backoffice/hlar/", {"day": "2027-03-29", "time": "02:30", "force": "on", "reason": "x"})
    assert response.status_code == 400 and "n&#x27;existe pas le 28/03/2027" in response.content.decode()
