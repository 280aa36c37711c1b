"""The back office's compliance pages in Debian's chromium: run a month, watch its progress update by itself
(htmx polling while the worker runs it), the month's statements and one contract's statement, the re-run's
confirmation — each page screenshot at phone and desktop width, checked by axe-core, no sideways scrolling."""

from __future__ import annotations

from datetime import date

import pytest
from huey.storage import MemoryStorage

from smartoa.billing.models import ComplianceRequest
from smartoa.billing.requests import execute
from smartoa.jobs.engine import huey
from tests.browser import DESKTOP, PHONE, needs_chromium
from tests.factories import at, load_curves, make_consigne
from tests.portal.test_backoffice_browser import operator_browser, portfolio  # noqa: F401  (fixtures)

pytestmark = needs_chromium
WIDTHS = pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["390", "1280"])
DAY = date(2026, 10, 14)


@pytest.fixture
def worker_queue():
    """Queued jobs wait in memory, for the test to run them as the worker would, while the page is open."""
    previous = huey.storage
    huey.immediate = False
    huey.storage = MemoryStorage(huey.name)
    yield
    huey.storage = previous
    huey.immediate = True


@WIDTHS
def test_run_a_month_then_read_its_statements(operator_browser, portfolio, worker_queue, width):  # noqa: F811
    for n, contract in enumerate(portfolio.values()):
        make_consigne(contract, DAY, [(at(DAY, 11, 55), at(DAY, 18), 1.0)])
        load_curves(contract.contract_id, DAY, overrides={at(DAY, 12): 0.4} if n == 0 else None)
    v = operator_browser(width)
    page = v.page
    v.go("/backoffice/compliance/")
    v.check_page("bo-compliance")
    page.get_by_role("button", name="Calculer octobre 2026").click()
    page.wait_for_url("**/backoffice/compliance/requests/*/")
    assert "en attente" in page.locator("#progress").inner_text()
    v.check_page("bo-compliance-queued")
    execute(ComplianceRequest.objects.get().pk, batch_size=1)  # the worker takes it
    page.locator("#progress .badge", has_text="terminé").wait_for(timeout=15_000)  # htmx brought it
    assert "4 contrats évalués sur 4" in page.locator("#progress").inner_text()
    v.check_page("bo-compliance-done")

    page.get_by_role("link", name="Voir les relevés du mois").click()
    page.wait_for_url("**/backoffice/compliance/2026-10/")
    assert "1 pas, chez 1 contrat" in page.locator("dl.facts").inner_text()
    v.check_page("bo-compliance-month")
    page.get_by_role("link", name="BOA00001").click()
    page.wait_for_url("**/backoffice/compliance/2026-10/BOA00001/")
    assert "14/10/2026 à 11:55" in page.locator("table.data").first.inner_text()
    v.check_page("bo-compliance-statement")

    v.go("/backoffice/compliance/")
    page.get_by_role("button", name="Recalculer octobre 2026").click()
    assert "Recalculer octobre 2026 ?" in page.locator("h1").inner_text()
    v.check_page("bo-compliance-confirm")
    page.get_by_role("button", name="Recalculer le mois").click()
    page.wait_for_url("**/backoffice/compliance/requests/*/")
    assert ComplianceRequest.objects.filter(state="queued").count() == 1


def test_without_javascript_the_progress_page_refreshes_itself(visitor, operator_browser, portfolio, worker_queue):  # noqa: F811
    make_consigne(portfolio["BOA00001"], DAY, [(at(DAY, 11, 55), at(DAY, 18), 1.0)])
    v = operator_browser(DESKTOP)
    v.go("/backoffice/compliance/")
    v.page.get_by_role("button", name="Calculer octobre 2026").click()
    v.page.wait_for_url("**/backoffice/compliance/requests/*/")
    url = v.page.url.removeprefix(v.base_url)
    plain = visitor(width=PHONE, javascript=False)
    plain.page.context.add_cookies(v.page.context.cookies())
    plain.go(url)
    assert plain.page.locator("noscript").count() == 1
    execute(ComplianceRequest.objects.get().pk)
    plain.page.locator("#progress .badge", has_text="terminé").wait_for(timeout=15_000)  # the meta refresh
