"""The contract's history in chromium: from the contract's tabs to a month, back to the month with its computed
compliance, the month picker, a day's versions, the statement download; every month page screenshot at phone and
desktop width, in French and English, checked by axe-core and for sideways scrolling."""

from __future__ import annotations

import json

import pytest

from smartoa.contracts.models import Contract
from tests.browser import DESKTOP, PHONE, needs_chromium, totp_code
from tests.portal.test_history import build_history
from tests.portal.test_journey import NEW_PASSWORD, login
from tests.portal.test_security import ready

pytestmark = needs_chromium


@pytest.fixture
def signed_in(visitor, producer):
    """producer@example.fr (BOA00001 with October's and November's history) signed in, in a new browser."""
    build_history(Contract.objects.get(contract_id="BOA00001"))
    secret = ready("producer@example.fr")

    def make(**kwargs):
        v = visitor(**kwargs)
        login(v, "producer@example.fr", NEW_PASSWORD, totp_code(secret))
        v.page.wait_for_url(v.base_url + "/")
        return v

    return make


def test_from_the_tabs_to_a_month_with_its_compliance(signed_in):
    v = signed_in()
    page = v.page
    v.go("/contrats/BOA00001/")
    page.get_by_role("link", name="Historique", exact=True).click()
    page.wait_for_url("**/contrats/BOA00001/historique/")
    assert page.get_by_role("heading", name="Historique · novembre 2026").is_visible()
    row = page.locator("#jour-2026-11-03")
    assert "Acquiescement annulé par une modification" in row.inner_text()
    assert "Non acquiescée" in row.inner_text()
    assert "Arrêt 11:55–18:00" in page.locator("#jour-2026-11-25").inner_text()  # tomorrow, from the fixture
    assert "À acquiescer (version 1)" in page.locator("#jour-2026-11-25").inner_text()
    assert "n'a pas encore été calculée" in page.locator(".history-statement").inner_text()

    page.get_by_role("link", name="← octobre 2026").click()
    page.wait_for_url("**/historique/2026-10/")
    statement = page.locator(".history-statement").inner_text()
    assert "Jours acquiescés\n2" in statement and "Pas en dépassement\n1" in statement
    assert "Énergie excédentaire\n0,5 kWh" in statement
    assert "1 pas en dépassement" in page.locator("#jour-2026-10-25").inner_text()
    assert "journée de 25 h" in page.locator("#jour-2026-10-25").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON", exact=True).click()
    document = json.loads(open(download.value.path(), "rb").read())  # noqa: SIM115 - the downloaded file
    assert document["month"] == "2026-10" and document["totals"]["breach_steps"] == 1
    assert document["days_not_acknowledged"] == ["2026-10-26"]

    page.get_by_label("Aller au mois").select_option("2026-11")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url("**/historique/2026-11/")
    page.locator("#jour-2026-11-02").get_by_role("link", name="3 versions").click()
    page.wait_for_url("**/jours/2026-11-02/")
    assert "Version 3" in page.locator("main").inner_text()

    v.go("/contrats/BOA00001/historique/2027-01/")
    assert page.url.endswith("/historique/2026-11/")
    assert "Pas d'historique pour janvier 2027 : voici novembre 2026." in page.locator(".messages").inner_text()
    assert v.go("/contrats/BOA00001/historique/2026-1/").status == 404
    assert v.go("/contrats/BOA00009/historique/").status == 404


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_the_history_at_both_widths_in_both_languages(signed_in, language, width):
    v = signed_in(width=width)
    if language == "en":
        v.page.get_by_role("button", name="English").click()
        v.page.wait_for_load_state()
    for month, heading in (
        ("2026-11", ("novembre 2026", "November 2026")),
        ("2026-10", ("octobre 2026", "October 2026")),
    ):
        assert v.go(f"/contrats/BOA00001/historique/{month}/").status == 200
        title = ("Historique · " if language == "fr" else "History · ") + heading[language == "en"]
        assert v.page.get_by_role("heading", name=title).is_visible()
        assert f'<html lang="{language}"' in v.page.content()
        v.check_page(f"{language}-history-{month}")
    main = v.page.locator("main").inner_text()
    if language == "en":
        assert "Acknowledged — version 1" in main and "Portal" in main and "Compliant" in main
        assert "Acquiesc" not in main and "Conforme" not in main
    else:
        assert "Acquiescée — version 1" in main and "Portail" in main and "Conforme" in main
