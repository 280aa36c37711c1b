"""The operator rules as an operator meets them in the back office, in Debian's chromium: the HLAR moved earlier
only after a confirmation step that says what closes and when (and who is told), and a publication refused
after the day's deadline then forced with a reason. Each step screenshot at phone and desktop width, checked by
axe-core, with no sideways scrolling."""

from __future__ import annotations

from datetime import time

from smartoa.audit.models import AuditEvent
from smartoa.consignes.deadlines import hlar_for
from smartoa.consignes.models import ConsigneVersion
from tests.factories import emails, paris
from tests.portal.conftest import TOMORROW
from tests.portal.test_backoffice_browser import WIDTHS, operator_browser, portfolio, price_file  # noqa: F401


@WIDTHS
def test_moving_the_hlar_earlier_asks_for_a_confirmation(operator_browser, portfolio, width):  # noqa: F811
    v = operator_browser(width)
    page = v.page
    v.go("/backoffice/hlar/?day=2026-11-25")
    v.check_page("bo-hlar")
    page.get_by_label("Nouvelle HLAR, heure de Paris la veille (HH:MM)").fill("15:00")
    page.get_by_role("button", name="Fixer l'HLAR").click()
    confirm = page.locator("section.confirm")
    confirm.wait_for()
    v.check_page("bo-hlar-confirm")
    text = confirm.inner_text()
    assert "Avancer l'HLAR ?" in text
    assert "du 25/11/2026, du 24/11/2026 à 16:30 au 24/11/2026 à 15:00, ferme les modifications le 24/11" in text
    assert "Les producteurs des 2 contrats qui ont une consigne ce jour-là seront prévenus" in text
    assert hlar_for(TOMORROW).time() == time(16, 30)  # nothing changed yet
    page.get_by_role("button", name="Confirmer : avancer l'HLAR").click()
    page.wait_for_url("**/backoffice/hlar/?day=2026-11-25")
    assert "HLAR du 25/11/2026 fixée au 24/11/2026 à 15:00" in page.locator(".messages").inner_text()
    v.check_page("bo-hlar-done")
    assert hlar_for(TOMORROW) == paris("2026-11-24", "15:00")
    assert {m.subject for m in emails(event="hlar.changed")} == {"SMART OA — l'HLAR est avancée"}
    assert AuditEvent.objects.get(action="hlar.set").details["earlier"] is True


@WIDTHS
def test_a_late_publication_is_refused_then_forced(operator_browser, portfolio, width, tmp_path, settings):  # noqa: F811
    v = operator_browser(width)
    page = v.page
    v.go("/backoffice/publication/")
    page.get_by_label("Jour de livraison").fill("2026-11-25")
    page.get_by_label("Prix du jour par quart d'heure (CSV start,price)").set_input_files(price_file(tmp_path))
    page.get_by_label("Contrats à exclure").fill("BOA00001, BOA00002")
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.wait_for_url("**/publication/preview/**")
    settings.SMARTOA_NOW = paris("2026-11-24", "16:05")  # the preview stayed open past the 16:00 deadline
    page.get_by_role("button", name="Publier 1 consigne").click()
    refusal = page.locator(".alert.error")
    refusal.wait_for()
    v.check_page("bo-publication-refused")
    assert "25/11/2026 : publication et modifications fermées depuis le 24/11/2026 à 16:00" in refusal.inner_text()
    assert not ConsigneVersion.objects.filter(contract__contract_id="BOA00003").exists()
    page.get_by_label("Forcer la publication après la limite").check()
    page.get_by_label("Motif (obligatoire pour forcer").fill("RTE a confirmé la contrainte par téléphone à 16:02")
    page.get_by_role("button", name="Publier 1 consigne quand même").click()
    page.wait_for_url("**/backoffice/?day=2026-11-25")
    messages = page.locator(".messages").inner_text()
    assert "1 consigne publiée pour le 25/11/2026" in messages
    assert "Publication forcée, enregistrée au journal d'audit avec son motif : RTE a confirmé" in messages
    v.check_page("bo-publication-forced")
    event = AuditEvent.objects.get(action="consigne.published", actor="ops@example.org")
    assert (event.details["forced"], event.details["overridden"]) == (True, ["deadline_passed"])
    assert event.details["force_reason"] == "RTE a confirmé la contrainte par téléphone à 16:02"
