"""A day's block on the contract page, as a producer lives it: the result of acknowledging appears in the block
itself (announced by its live region), with or without JavaScript; an acknowledged version offers nothing more
until a modification voids it; the countdown runs; a page left open updates itself when a new version is
published or the HLAR passes (no active button after it) — and these refreshes do not keep an idle session alive."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from smartoa.accounts.models import User
from smartoa.consignes.models import Acknowledgment
from smartoa.contracts.models import Contract
from tests.browser import DESKTOP, PHONE, needs_chromium
from tests.factories import modify_day, paris, stop_periods
from tests.portal.conftest import NOW, TOMORROW
from tests.portal.test_contract_pages import signed_in  # noqa: F401 - a fixture
from tests.portal.test_security import ready

DAY = "#day-2026-11-25"
HLAR = paris("2026-11-24", "16:30")


@needs_chromium
@pytest.mark.parametrize(("language", "width"), [("fr", PHONE), ("en", DESKTOP)])
def test_the_result_appears_in_the_block_that_was_clicked(signed_in, language, width):  # noqa: F811
    v = signed_in(width=width)
    english = language == "en"
    if english:
        v.page.get_by_role("button", name="English").click()
    v.go("/contrats/BOA00001/")
    block = v.page.locator(DAY)
    meaning = "I take note of the stop request" if english else "je prends connaissance de la demande d'arrêt"
    assert meaning in block.inner_text()
    block.get_by_role("button", name="Acknowledge version 1" if english else "Acquiescer la version 1").click()
    result = block.locator(".day-result[role=status]")
    expected = "Acknowledgment recorded: version 1" if english else "Acquiescement enregistré : version 1"
    result.get_by_text(expected).wait_for()
    assert "25/11/2026" in result.inner_text() and "24/11/2026" in result.inner_text()
    assert v.page.locator("main > [role=status] .message").count() == 0  # not in the page's message area
    # An acknowledged version offers nothing more.
    assert block.get_by_role("button").count() == 0
    assert ("Acknowledged — version 1" if english else "Acquiescée — version 1") in block.inner_text()
    v.check_page(f"day-acknowledged-{language}")
    v.go("/")  # and no message waits for the next page
    assert "Acquiescement enregistré" not in v.page.locator("main").inner_text()


@needs_chromium
def test_without_javascript_the_result_is_shown_in_the_block_too(signed_in):  # noqa: F811
    v = signed_in(javascript=False)
    v.go("/contrats/BOA00001/")
    v.page.locator(DAY).get_by_role("button", name="Acquiescer la version 1").click()
    v.page.wait_for_url("**/contrats/BOA00001/#day-2026-11-25")
    assert "Acquiescement enregistré : version 1" in v.page.locator(f"{DAY} .day-result").inner_text()
    v.screenshot("day-acknowledged-no-js")  # (axe needs scripts: the same page is checked with them above)
    v.go("/contrats/BOA00001/")  # shown once
    assert v.page.locator(f"{DAY} .day-result").inner_text() == ""


@needs_chromium
def test_a_refusal_after_hlar_is_shown_in_the_block_and_locks_it(signed_in, settings):  # noqa: F811
    v = signed_in()
    v.go("/contrats/BOA00001/")
    settings.SMARTOA_NOW = HLAR + timedelta(minutes=1)  # the page stayed open past the HLAR
    v.page.locator(DAY).get_by_role("button", name="Acquiescer la version 1").click()
    result = v.page.locator(f"{DAY} .day-result")
    result.get_by_text("sont fermés depuis l'HLAR").wait_for()
    assert "24/11/2026 à 16:30" in result.inner_text() and "T16:30" not in result.inner_text()
    assert "Non acquiescée — verrouillée" in v.page.locator(DAY).inner_text()
    assert v.page.locator(DAY).get_by_role("button").count() == 0
    assert Acknowledgment.objects.count() == 0
    v.check_page("day-refused")


@needs_chromium
def test_a_page_left_open_counts_down_and_updates_itself(signed_in, settings):  # noqa: F811
    v = signed_in()
    v.page.clock.install()
    v.go("/contrats/BOA00001/")
    countdown = v.page.locator(f"{DAY} .countdown")
    assert countdown.inner_text() == "encore 6 h 30 min"
    v.page.clock.run_for("01:00")
    assert countdown.inner_text() == "encore 6 h 29 min"
    # The operator publishes a new version: within half a minute the block shows it and says so.
    contract = Contract.objects.get(contract_id="BOA00001")
    modify_day(contract, TOMORROW, stop_periods(TOMORROW, "12:55", "18:00"), moment=NOW)
    v.page.clock.run_for("00:31")
    result = v.page.locator(f"{DAY} .day-result")
    result.get_by_text("a été modifiée : la version 2 est à acquiescer").wait_for()
    assert "Arrêt 12:55–18:00" in v.page.locator(DAY).inner_text()
    assert v.page.locator(DAY).get_by_role("button", name="Acquiescer la version 2").is_visible()
    v.check_page("day-updated")
    # One minute before the HLAR; at the HLAR the button is disabled at once and the block locks itself.
    settings.SMARTOA_NOW = HLAR - timedelta(minutes=1)
    v.go("/contrats/BOA00001/")
    assert countdown.inner_text() == "encore 1 min"
    settings.SMARTOA_NOW = HLAR + timedelta(seconds=5)
    v.page.clock.run_for("01:05")
    result.get_by_text("L'HLAR est passée").wait_for()
    assert v.page.locator(DAY).get_by_role("button").count() == 0
    assert "Non acquiescée — verrouillée" in v.page.locator(DAY).inner_text()


def signed_in_client(email: str) -> Client:
    """A client past both login steps (the session marked verified with the account's authenticator)."""
    client = Client()
    user = User.objects.get(email=email)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return client


@pytest.mark.django_db(transaction=True)
def test_the_block_is_sent_again_only_when_the_day_changed(producer):
    ready("producer@example.fr")
    client = signed_in_client("producer@example.fr")
    page = client.get("/contrats/BOA00001/").content.decode()
    signature = page.split("/jours/2026-11-25/bloc/?etat=", 1)[1].split('"', 1)[0]
    unchanged = client.get(f"/contrats/BOA00001/jours/2026-11-25/bloc/?etat={signature}", HTTP_HX_REQUEST="true")
    assert unchanged.status_code == 204 and unchanged.content == b""
    modify_day(Contract.objects.get(contract_id="BOA00001"), TOMORROW, stop_periods(TOMORROW, "13:00", "18:00"))
    changed = client.get(f"/contrats/BOA00001/jours/2026-11-25/bloc/?etat={signature}", HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    assert "La consigne du 25/11/2026 a été modifiée : la version 2 est à acquiescer." in changed.content.decode()
    # Another producer's contract: 404, whatever is asked.
    assert client.get("/contrats/BOA00009/jours/2026-11-25/bloc/?etat=x").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_refreshes_do_not_keep_an_idle_session_alive(producer, settings):
    ready("producer@example.fr")
    client = signed_in_client("producer@example.fr")
    page = client.get("/contrats/BOA00001/")
    assert settings.SESSION_COOKIE_NAME in page.cookies  # a page renews the session
    poll = client.get("/contrats/BOA00001/jours/2026-11-25/bloc/?etat=x", HTTP_HX_REQUEST="true")
    assert poll.status_code == 200 and settings.SESSION_COOKIE_NAME not in poll.cookies  # a refresh does not
    # Once the session has ended, a refresh sends the whole page to the login, then back to the contract.
    client.logout()
    ended = client.get(
        "/contrats/BOA00001/jours/2026-11-25/bloc/?etat=x",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/contrats/BOA00001/",
    )
    assert ended.status_code == 204 and ended.headers["HX-Redirect"] == "/connexion/?next=%2Fcontrats%2FBOA00001%2F"
