"""An incident change in a form: the current windows pre-filled, add / move / remove, the preview (timeline and
difference), publication through ``consignes.services.modify`` with its audit; every refusal a form message in
French with nothing written."""

from __future__ import annotations

from datetime import date

import pytest

from smartoa.audit.models import AuditEvent
from smartoa.consignes.models import ConsigneVersion
from smartoa.contracts.services import assign_role
from tests.factories import paris, periods_with, publish_day, stop_periods

DAY = date(2026, 11, 25)
NOW = paris("2026-11-24", "13:00")
URL = "/backoffice/publication/modify/BOA00001/2026-11-25/"


@pytest.fixture
def published(make_contract, settings, db):
    settings.SMARTOA_NOW = NOW
    contract = make_contract("BOA00001")
    publish_day(contract, DAY, stop_periods(DAY), moment=paris("2026-11-24", "12:00"))
    return contract


def windows(*rows, reason: str = "prix corrigés", action: str = "preview", **extra) -> dict:
    """The form's POST data: ``rows`` of (start, end) or (start, end, "remove")."""
    data = {
        "windows-TOTAL_FORMS": str(len(rows)),
        "windows-INITIAL_FORMS": "0",
        "windows-MIN_NUM_FORMS": "0",
        "windows-MAX_NUM_FORMS": "100",
        "reason": reason,
        "action": action,
        **extra,
    }
    for n, row in enumerate(rows):
        data[f"windows-{n}-start"], data[f"windows-{n}-end"] = row[0], row[1]
        if len(row) > 2:
            data[f"windows-{n}-DELETE"] = "on"
    return data


def preview_then_publish(client, *rows, reason="prix corrigés", url=URL):
    page = client.post(url, windows(*rows, reason=reason))
    assert page.status_code == 200, page.content.decode()
    fingerprint = page.context["preview"]["fingerprint"]
    return client.post(url, windows(*rows, reason=reason, action="publish", fingerprint=fingerprint))


def test_the_form_is_prefilled_with_the_current_version(operator, published):
    response = operator.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Modifier la consigne de BOA00001 du mercredi 25 novembre 2026" in html
    assert "Version en vigueur : v1" in html and "Arrêt 11:55–18:00" in html
    assert 'name="windows-0-start" value="11:55"' in html and 'name="windows-0-end" value="18:00"' in html
    assert 'name="windows-1-start"' in html  # the empty row that adds a window
    assert "Publication et modifications possibles jusqu'au 24/11/2026 à 16:00" in html  # the deadline


def test_add_a_window_row_without_javascript(operator, published):
    html = operator.post(URL, windows(("11:55", "18:00"), ("", ""), action="add")).content.decode()
    assert 'name="windows-2-start"' in html and 'value="11:55"' in html
    assert "Aperçu" not in html.split("<h1>")[1].split("</h1>")[0]


def test_preview_shows_the_new_timeline_and_the_difference_without_writing(operator, published):
    response = operator.post(URL, windows(("12:30", "17:00"), ("20:00", "24:00"), ("", "")))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Aperçu de la version v2" in html and "Arrêt 12:30–17:00, 20:00–24:00" in html
    assert "Fenêtre déplacée : 11:55–18:00 devient 12:30–17:00" in html
    assert "Fenêtre ajoutée : 20:00–24:00" in html
    assert 'class="removed"' in html and 'class="added"' in html  # drawn too
    assert "Publier la version v2" in html
    assert ConsigneVersion.objects.count() == 1 and not AuditEvent.objects.filter(action="consigne.modified").exists()


def test_publish_a_new_version_with_its_reason_and_audit(operator, published, emails):
    from django.db import transaction

    with transaction.atomic():
        assign_role(published, "holder@example.fr", "holder", actor="test")
    response = preview_then_publish(operator, ("12:30", "17:00"), ("11:55", "18:00", "remove"), ("", ""))
    assert response.status_code == 302 and response["Location"] == URL
    version = ConsigneVersion.objects.get(number=2)
    assert (version.reason, version.created_by) == ("prix corrigés", "ops@example.org")
    assert version.periods == [
        p.as_json() for p in periods_with(DAY, [(paris("2026-11-25", "12:30"), paris("2026-11-25", "17:00"), 1.0)])
    ]
    event = AuditEvent.objects.get(action="consigne.modified")
    assert (event.actor, event.ip, event.details["reason"], event.details["version"]) == (
        "ops@example.org",
        "127.0.0.1",
        "prix corrigés",
        2,
    )
    assert emails("holder@example.fr")  # told to acknowledge again
    page = operator.get(URL).content.decode()
    assert "BOA00001, livraison du 25/11/2026 : version 2 publiée (Arrêt 12:30–17:00)" in page
    assert "Version en vigueur : v2" in page


def test_removing_every_window_publishes_a_day_without_stop(operator, published):
    assert preview_then_publish(operator, ("11:55", "18:00", "remove")).status_code == 302
    assert ConsigneVersion.objects.get(number=2).has_stop is False


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            (("11:00", "12:00"), ("11:30", "13:00")),
            "Les fenêtres 1 et 2 se chevauchent de 25/11/2026 à 11:30 à 25/11/2026 à 12:00",
        ),
        ((("11:57", "13:00"),), "11:57 n&#x27;est pas sur la grille de 5 minutes"),
        (
            (("14:00", "13:00"),),
            "Fenêtre 1 : sa fin 25/11/2026 à 13:00 n&#x27;est pas après son début 25/11/2026 à 14:00",
        ),
        ((("23:00", "25:00"),), "&#x27;25:00&#x27; n&#x27;est pas une heure HH:MM"),
        ((("23:00", ""),), "Indiquez le début et la fin de la fenêtre (HH:MM)."),
    ],
)
def test_refusals_are_form_messages_and_change_nothing(operator, published, rows, message):
    response = operator.post(URL, windows(*rows))
    html = response.content.decode()
    assert response.status_code == 400 and message in html, html
    assert "Publier la version" not in html
    assert ConsigneVersion.objects.count() == 1


def test_publication_refusals_of_the_service_change_nothing(operator, published, settings):
    response = preview_then_publish(operator, ("12:00", "13:00"), reason="  ")
    assert response.status_code == 400 and "Un motif est obligatoire" in response.content.decode()
    settings.SMARTOA_NOW = paris("2026-11-24", "16:00")  # the cut-off: HLAR 16:30 − 30 min
    response = preview_then_publish(operator, ("12:00", "13:00"))
    assert response.status_code == 400
    assert "modifications fermées depuis le 24/11/2026 à 16:00" in response.content.decode()
    response = preview_then_publish(operator, ("11:55", "18:00"))  # the same as the current version
    assert "Aucune différence avec la version en vigueur" in response.content.decode()
    assert ConsigneVersion.objects.count() == 1 and not AuditEvent.objects.filter(action="consigne.modified").exists()


def test_a_confirmation_must_match_its_preview(operator, published):
    page = operator.post(URL, windows(("12:00", "13:00")))
    fingerprint = page.context["preview"]["fingerprint"]
    changed = operator.post(URL, windows(("12:00", "14:00"), action="publish", fingerprint=fingerprint))
    html = changed.content.decode()
    assert changed.status_code == 400 and "Les données ont changé depuis l&#x27;aperçu" in html
    assert "Arrêt 12:00–14:00" in html  # the new preview, to confirm again
    publish_day_v2 = preview_then_publish(operator, ("10:00", "11:00"))  # another change published meanwhile…
    assert publish_day_v2.status_code == 302
    stale = operator.post(URL, windows(("12:00", "13:00"), action="publish", fingerprint=fingerprint))
    assert stale.status_code == 400 and ConsigneVersion.objects.count() == 2


def test_unknown_contract_bad_day_and_unpublished_day(operator, published):
    assert operator.get("/backoffice/publication/modify/BOATYPO/2026-11-25/").status_code == 404
    assert operator.get("/backoffice/publication/modify/BOA00001/2026-13-01/").status_code == 404
    response = operator.get("/backoffice/publication/modify/BOA00001/2026-11-26/", follow=True)
    assert response.redirect_chain[-1][0] == "/backoffice/publication/modify/"
    assert "BOA00001 n&#x27;a pas de consigne publiée pour le 26/11/2026" in response.content.decode()


def test_reached_from_the_incident_tab_and_the_contract_page(operator, published):
    html = operator.get("/backoffice/publication/modify/").content.decode()
    assert 'action="/backoffice/publication/modify/choose/"' in html
    response = operator.get("/backoffice/publication/modify/choose/", {"contract": "boa00001", "day": "2026-11-25"})
    assert response.status_code == 302 and response["Location"] == URL
    assert URL in operator.get("/backoffice/contracts/BOA00001/").content.decode()


def test_a_day_of_25_hours(operator, make_contract, settings):
    settings.SMARTOA_NOW = paris("2026-10-24", "10:00")
    day = date(2026, 10, 25)
    contract = make_contract("BOA00001")
    publish_day(contract, day, stop_periods(day, "01:00", "05:00"), moment=paris("2026-10-24", "09:00"))
    url = "/backoffice/publication/modify/BOA00001/2026-10-25/"
    html = operator.get(url).content.decode()
    assert "Ce jour compte 25 heures" in html
    response = operator.post(url, windows(("02:30", "04:00")))
    assert response.status_code == 400 and "02:30 a lieu deux fois le 25/10/2026" in response.content.decode()
    page = operator.post(url, windows(("02:30+01:00", "04:00")))
    assert (
        page.status_code == 200 and "Fenêtre déplacée : 01:00–05:00 devient 02:30+01:00–04:00" in page.content.decode()
    )


def test_anonymous_visitors_are_sent_to_the_login(client, published):
    response = client.get(URL)
    assert response.status_code == 302 and "next=" in response["Location"]
    assert client.post(URL, windows(("12:00", "13:00"))).status_code == 302
    assert ConsigneVersion.objects.count() == 1


def test_a_day_of_23_hours(operator, make_contract, settings):
    settings.SMARTOA_NOW = paris("2026-03-28", "10:00")
    day = date(2026, 3, 29)
    publish_day(
        make_contract("BOA00001"), day, stop_periods(day, "01:00", "05:00"), moment=paris("2026-03-28", "09:00")
    )
    url = "/backoffice/publication/modify/BOA00001/2026-03-29/"
    assert "Ce jour compte 23 heures" in operator.get(url).content.decode()
    response = operator.post(url, windows(("02:30", "04:00")))
    assert response.status_code == 400 and "02:30 n&#x27;existe pas le 29/03/2026" in response.content.decode()
    assert preview_then_publish(operator, ("01:55", "03:05"), url=url).status_code == 302
    version = ConsigneVersion.objects.get(number=2)
    assert version.periods[1] == {
        "start_date": "2026-03-29T01:55:00+01:00",
        "end_date": "2026-03-29T03:05:00+02:00",
        "value": 1.0,
    }


def test_a_reader_sees_the_form_but_cannot_publish(client, published):
    from tests.factories import make_operator

    make_operator(client, "lecture@example.org", role="lecture")
    html = client.get(URL).content.decode()
    assert "Version en vigueur : v1" in html and "Voir l'aperçu" not in html
    assert "Consultation seulement : cette action demande le rôle Opérateur." in html
    response = client.post(URL, windows(("12:00", "13:00"), action="publish", fingerprint="0" * 64))
    assert response.status_code == 403 and ConsigneVersion.objects.count() == 1


def test_past_the_cutoff_the_preview_offers_to_force_with_the_reason(operator, published, settings):
    settings.SMARTOA_NOW = paris("2026-11-24", "16:05")  # past HLAR − 30 min
    page = operator.post(URL, windows(("12:00", "13:00"), reason="RTE demande l'arrêt"))
    html = page.content.decode()
    assert "Sans forcer, ce sera refusé :" in html and "fermées depuis le 24/11/2026 à 16:00" in html
    assert 'name="force" form="change-form"' in html and "Publier la version v2 quand même" in html
    fingerprint = page.context["preview"]["fingerprint"]
    data = windows(("12:00", "13:00"), reason="RTE demande l'arrêt", action="publish", fingerprint=fingerprint)
    assert operator.post(URL, data).status_code == 400  # not forced: refused
    blank = {**data, "force": "on", "reason": " "}
    assert operator.post(URL, blank).status_code == 400 and ConsigneVersion.objects.count() == 1
    response = operator.post(URL, {**data, "force": "on"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="consigne.modified")
    assert (event.details["forced"], event.details["force_reason"]) == (True, "RTE demande l'arrêt")
    assert ConsigneVersion.objects.get(number=2).reason == "RTE demande l'arrêt"


def test_on_time_there_is_nothing_to_force(operator, published):
    html = operator.post(URL, windows(("12:00", "13:00"))).content.decode()
    assert "Sans forcer" not in html and 'name="force"' not in html
