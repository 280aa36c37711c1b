"""Incident work in the back office, in Debian's chromium: one consigne changed in its form (windows moved, added
and removed, the preview with its difference, the publication) and a consignes file published through its
preview — each page screenshot at phone and desktop width, axe-core clean, nothing scrolling sideways.

Beside the portal's browser tests to share their session-wide chromium and fixtures (``conftest.py``)."""

from __future__ import annotations

import json

import pytest

from smartoa.audit.models import AuditEvent
from smartoa.consignes.models import ConsigneVersion
from smartoa.domain.schedule import no_stop_periods
from tests.browser import DESKTOP, PHONE, needs_chromium
from tests.factories import as_json, paris, stop_periods
from tests.portal.conftest import TOMORROW
from tests.portal.test_backoffice_browser import operator_browser, portfolio  # noqa: F401  (fixtures)

pytestmark = needs_chromium
WIDTHS = pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["390", "1280"])


@WIDTHS
def test_change_one_consigne_in_its_form(operator_browser, portfolio, width):  # noqa: F811
    v = operator_browser(width)
    page = v.page
    v.go("/backoffice/contracts/BOA00001/")
    page.get_by_role("link", name="Modifier la consigne du 25/11/2026").click()
    page.wait_for_url("**/publication/modify/BOA00001/2026-11-25/")
    v.check_page("bo-change-form")
    assert page.get_by_label("Début — fenêtre 1").input_value() == "11:55"
    assert page.get_by_label("Fin — fenêtre 1").input_value() == "18:00"
    assert "jusqu'au 24/11/2026 à 16:00" in page.locator(".lead").inner_text()  # the deadline on the form
    page.get_by_label("Fin — fenêtre 1").fill("17:00")
    page.get_by_label("Début — fenêtre 2").fill("20:00")
    page.get_by_label("Fin — fenêtre 2").fill("24:00")
    page.get_by_role("button", name="Ajouter une fenêtre").click()
    page.get_by_label("Début — fenêtre 3").fill("06:00")
    page.get_by_label("Fin — fenêtre 3").fill("06:30")
    page.get_by_label("Motif de la modification").fill("Prix EPEX corrigés")
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.wait_for_selector("#apercu")
    v.check_page("bo-change-preview")
    preview = page.locator("#apercu").inner_text()
    assert "Arrêt 06:00–06:30, 11:55–17:00, 20:00–24:00" in preview
    assert "Fenêtre ajoutée : 06:00–06:30" in preview
    assert "Fenêtre déplacée : 11:55–18:00 devient 11:55–17:00" in preview
    assert ConsigneVersion.objects.filter(contract__contract_id="BOA00001").count() == 1  # nothing yet
    page.get_by_label("Retirer — fenêtre 3").check()  # changed after the preview: previewed again
    page.get_by_role("button", name="Publier la version v2").click()
    page.wait_for_selector(".alert.error")
    assert "Les données ont changé depuis l'aperçu" in page.locator(".alert.error").inner_text()
    assert "Fenêtre ajoutée : 06:00–06:30" not in page.locator("#apercu").inner_text()
    page.get_by_role("button", name="Publier la version v2").click()
    page.wait_for_selector(".messages")
    assert "version 2 publiée (Arrêt 11:55–17:00, 20:00–24:00)" in page.locator(".messages").inner_text()
    v.check_page("bo-change-done")
    version = ConsigneVersion.objects.get(contract__contract_id="BOA00001", number=2)
    assert (version.reason, version.created_by) == ("Prix EPEX corrigés", "ops@example.org")
    assert AuditEvent.objects.get(action="consigne.modified").ip == "127.0.0.1"


@WIDTHS
def test_a_refused_change_says_why(operator_browser, portfolio, width):  # noqa: F811
    v = operator_browser(width)
    page = v.page
    v.go("/backoffice/publication/modify/")
    page.get_by_label("Contrat", exact=True).fill("BOA00001")
    page.get_by_role("button", name="Ouvrir la consigne").click()
    page.wait_for_url("**/publication/modify/BOA00001/2026-11-25/")
    page.get_by_label("Début — fenêtre 2").fill("17:00")
    page.get_by_label("Fin — fenêtre 2").fill("19:02")
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.wait_for_selector(".field .error")
    assert "19:02 n'est pas sur la grille de 5 minutes" in page.locator(".field .error").inner_text()
    page.get_by_label("Fin — fenêtre 2").fill("19:00")
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.wait_for_selector(".alert.error")
    assert "Les fenêtres 1 et 2 se chevauchent" in page.locator(".alert.error").inner_text()
    v.check_page("bo-change-refused")
    assert ConsigneVersion.objects.filter(contract__contract_id="BOA00001").count() == 1


def consignes_file(tmp_path, documents) -> str:
    path = tmp_path / "consignes-2026-11-25.json"
    path.write_text(json.dumps(documents, indent=2))
    return str(path)


@WIDTHS
def test_publish_a_consignes_file_through_its_preview(operator_browser, portfolio, width, tmp_path):  # noqa: F811
    v = operator_browser(width)
    page = v.page
    v.go("/backoffice/publication/")
    page.get_by_role("link", name="Publier un fichier de consignes").click()
    page.wait_for_url("**/publication/file/")
    v.check_page("bo-file")
    label = "Fichier de consignes (JSON au format de l'API : un document ou une liste)"
    bad = as_json("BOA00003", TOMORROW, stop_periods(TOMORROW))
    bad["data"][1]["value"] = 2
    page.get_by_label(label).set_input_files(consignes_file(tmp_path, [bad, as_json("BOATYPO", TOMORROW, [])]))
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.wait_for_selector(".alert.error")
    lines = page.locator(".alert.error .lines").inner_text().splitlines()
    assert lines[0] == "Rien n'a été publié :"
    assert lines[1].startswith("document 1 : BOA00003 du 25/11/2026 : période 2 : value 2 n'est pas admise")
    assert lines[2].startswith("document 2 :")
    v.check_page("bo-file-refused")
    documents = [
        as_json("BOA00001", TOMORROW, stop_periods(TOMORROW)),  # already published
        as_json("BOA00003", TOMORROW, stop_periods(TOMORROW, "12:00", "15:00")),
        as_json("BOA00004", TOMORROW, no_stop_periods(TOMORROW)),  # too small to be eligible
    ]
    page.get_by_label(label).set_input_files(consignes_file(tmp_path, documents))
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.wait_for_url("**/publication/file/preview/**")
    v.check_page("bo-file-preview")
    assert "Aperçu : fichier de 3 consignes" in page.locator("h1").inner_text()
    assert page.get_by_role("button", name="Publier").count() == 0  # BOA00001 already has its consigne
    assert "est sous le seuil de 12" in page.locator("table.data").inner_text()
    page.get_by_role("button", name="Exclure les contrats déjà publiés").click()
    page.wait_for_url("**exclude=BOA00001**")
    page.get_by_role("button", name="Exclure les contrats non éligibles").click()
    page.wait_for_url("**exclude=BOA00001%2C+BOA00004**")
    v.check_page("bo-file-preview-excluded")
    assert "Arrêt 12:00–15:00" in page.locator("figcaption").inner_text()
    page.get_by_role("button", name="Publier 1 consigne").click()
    page.wait_for_url("**/backoffice/?day=2026-11-25")
    assert "1 consigne publiée depuis le fichier (livraison du 25/11/2026)." in page.locator(".messages").inner_text()
    version = ConsigneVersion.objects.get(contract__contract_id="BOA00003")
    assert version.created_by == "ops@example.org"
    assert AuditEvent.objects.get(action="consigne.published", actor="ops@example.org").ip == "127.0.0.1"


@WIDTHS
def test_a_late_change_forced_with_its_reason(operator_browser, portfolio, width, settings):  # noqa: F811
    v = operator_browser(width)
    page = v.page
    settings.SMARTOA_NOW = paris("2026-11-24", "16:10")  # past the 25th's cut-off (16:00)
    v.go("/backoffice/publication/modify/BOA00001/2026-11-25/")
    page.get_by_label("Fin — fenêtre 1").fill("16:00")
    page.get_by_label("Motif de la modification").fill("Demande de RTE après la limite")
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.wait_for_selector("#apercu")
    assert "Sans forcer, ce sera refusé" in page.locator(".alert.warning.force").inner_text()
    v.check_page("bo-change-force")
    page.get_by_label("Forcer la modification malgré ces règles").check()
    page.get_by_role("button", name="Publier la version v2 quand même").click()
    page.wait_for_selector(".messages")
    assert "version 2 publiée (Arrêt 11:55–16:00)" in page.locator(".messages").inner_text()
    assert AuditEvent.objects.get(action="consigne.modified").details["forced"] is True
