"""Every back-office page in Debian's chromium, at phone (390 px) and desktop (1280 px) width: it answers 200
where it was asked, with the back office's style sheet, nothing scrolls sideways, axe-core finds no serious or
critical violation, no script error, and a screenshot of each is saved (``var/test-output/screenshots/bo-page-*``).

The list of pages is generated from ``backoffice/urls.py``: each URL name needs a row in ``PAGES`` saying how to
visit it (its arguments, its query) — or, for a URL that is not a page (a POST-only step, a download), why it is
not visited. A new URL without a row fails ``test_every_backoffice_url_has_a_row``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.urls import reverse

from smartoa.api.auth import flush_last_use
from smartoa.backoffice import staging, urls
from smartoa.backoffice.views.consignes_file import CONSIGNES_FILE
from smartoa.backoffice.views.contracts import CONTRACTS_FILE
from smartoa.backoffice.views.publication import PRICES
from smartoa.billing.requests import run_now
from smartoa.contracts.models import ApiToken
from smartoa.domain.calendar import STEP_15, iso, steps
from smartoa.domain.schedule import no_stop_periods
from smartoa.notifications.services import set_webhook
from tests.browser import DESKTOP, PHONE, Visitor, needs_chromium
from tests.factories import (
    acknowledge,
    add_account,
    as_json,
    load_curves,
    make_contract,
    make_operator,
    make_token,
    paris,
    publish_day,
    stop_periods,
)

NOW = paris("2026-11-24", "10:00")
TODAY, TOMORROW = date(2026, 11, 24), date(2026, 11, 25)


@dataclass(frozen=True)
class Visit:
    """One visit of a page: the URL's arguments and a query string. Values may name the test data in braces:
    ``{holder}`` (an account's pk), ``{operator}`` (the operator's), ``{compliance_request}`` (a compliance run's
    request), ``{prices}``, ``{consignes_file}`` and ``{contracts_file}`` (digests of files staged for a preview)."""

    kwargs: dict[str, str] = field(default_factory=dict)
    query: str = ""
    name: str = ""  # the screenshot's name when a URL is visited more than once


@dataclass(frozen=True)
class NotAPage:
    """A URL that is not a page to look at; ``why`` says where it is tested instead."""

    why: str


CONTRACT = {"contract_id": "BOA00001"}

# One row per URL name of backoffice/urls.py: how to visit it (one or more Visit), or why not (NotAPage).
PAGES: dict[str, tuple[Visit, ...] | NotAPage] = {
    "control": (Visit(), Visit(query="day=2026-11-25&state=not_published", name="not-published")),
    "publication": (Visit(),),
    "publication-preview": (Visit(query="day=2026-11-25&prices={prices}"),),
    "publish": NotAPage("POST only (GET redirects to the publication): tests/backoffice/test_publication.py"),
    "consignes-file": (Visit(),),
    "consignes-file-preview": (Visit(query="file={consignes_file}"),),
    "consignes-file-publish": NotAPage("POST only (GET redirects to the file's upload): tests/backoffice/"),
    "modify": (Visit(),),
    "consigne-choose": NotAPage("a redirect (to the change form, or back to the incident tab): tests/backoffice/"),
    "consigne-change": (Visit({"contract_id": "BOA00001", "day": "2026-11-25"}),),
    "hlar": (Visit(),),
    "contracts": (Visit(),),
    "contracts-import": (Visit(),),
    "contracts-import-preview": (Visit(query="file={contracts_file}"),),
    "contracts-import-confirm": NotAPage("POST only (GET redirects to the import): tests/backoffice/"),
    "contract": (Visit(CONTRACT), Visit({"contract_id": "BOA00003"}, name="unpublished")),
    "contract-new": (Visit(),),
    "contract-edit": (Visit(CONTRACT),),
    "contract-active": (Visit(CONTRACT),),
    "accounts": (Visit(),),
    "account-new": (Visit(),),
    "reset-totp": (Visit({"pk": "{holder}"}),),
    "account-role": (Visit({"pk": "{operator}"}),),
    "audit": (Visit(),),
    "curve-upload": (Visit(),),
    "contract-curve": (
        Visit(CONTRACT, query="day=2026-11-23", name="day"),
        Visit(CONTRACT, query="month=2026-11", name="month"),
    ),
    "contract-statement": NotAPage("a file download: tests/billing/test_statements.py"),
    "compliance": (Visit(),),
    "compliance-run": NotAPage("POST only (GET redirects to the compliance page): tests/backoffice/"),
    "compliance-request": (Visit({"pk": "{compliance_request}"}),),
    "compliance-progress": NotAPage("the htmx fragment of compliance-request: tests/backoffice/"),
    "compliance-month": (Visit({"month": "2026-11"}),),
    "compliance-statement": (Visit({"month": "2026-11", "contract_id": "BOA00001"}),),
}


def backoffice_url_names() -> set[str]:
    return {pattern.name for pattern in urls.urlpatterns if pattern.name}


def test_every_backoffice_url_has_a_row():
    missing = sorted(backoffice_url_names() - PAGES.keys())
    assert not missing, (
        f"back-office URL(s) {missing} have no row in PAGES ({__file__}): add one saying how to visit the page "
        "(Visit(kwargs, query)) or why it is not a page (NotAPage(why))"
    )
    gone = sorted(PAGES.keys() - backoffice_url_names())
    assert not gone, f"PAGES rows {gone} name URLs that backoffice/urls.py no longer has: remove them"


def price_text() -> str:
    lines = ["start,price"] + [
        f"{iso(moment)},{-8.25 if 52 <= n < 60 else 41.0}" for n, moment in enumerate(steps(TOMORROW, STEP_15))
    ]
    return "\n".join(lines) + "\n"


def consignes_text() -> str:
    """A consignes file (the API's document format): BOA00003's stop tomorrow."""
    return json.dumps([as_json("BOA00003", TOMORROW, stop_periods(TOMORROW))])


CONTRACTS_CSV = (
    "contract_id,name,sector,installed_power,power_unit,holder_email,manager_email,network_id\n"
    "BOA00001,Centrale de Beauce,pv,15,MWc,producteur@example.fr,autre-gestion@example.fr,30001234567890\n"
    "BOA00005,Parc de la Plaine,pv,12,MWc,plaine@example.fr,,\n"
)


@pytest.fixture
def backoffice_data(transactional_db, settings, client):
    """Four contracts with accounts, tomorrow published for two (one acknowledged), yesterday's curve, a token
    used by the API and the event stream, a webhook delivered; the values the PAGES rows name."""
    settings.SMARTOA_NOW = NOW
    settings.SMARTOA_NOTIFICATION_SENDER = "memory"
    from decimal import Decimal

    from smartoa.contracts.models import EligibilityRule

    if not EligibilityRule.objects.exists():  # a transactional test's flush removed the migration's rules
        for sector, power in (("pv", 12), ("wind_onshore", 10), ("wind_offshore", 0)):
            EligibilityRule.objects.create(sector=sector, min_power_mw=Decimal(power), effective_from=date(2025, 1, 1))
    contracts = {
        "BOA00001": make_contract("BOA00001", name="Centrale de Beauce, toiture sud et ombrières du parking"),
        "BOA00002": make_contract("BOA00002", sector="wind_onshore", power="12", name="Parc des Crêtes"),
        "BOA00003": make_contract("BOA00003", power="13", name="Toits de Lyon"),
        "BOA00004": make_contract("BOA00004", power="5", name="Petit parc"),
    }
    holder = add_account(contracts["BOA00001"], "responsable.exploitation.longue-adresse@producteur-exemple.fr")
    add_account(contracts["BOA00001"], "gestion@example.fr", "manager")
    add_account(contracts["BOA00002"], "producteur@example.fr")
    token = make_token(contracts["BOA00001"])
    with transaction.atomic():
        set_webhook(contracts["BOA00001"], "https://hooks.example.fr/smartoa", actor="test")
    publish_day(contracts["BOA00001"], TOMORROW, stop_periods(TOMORROW), moment=NOW - timedelta(hours=1))
    publish_day(contracts["BOA00002"], TOMORROW, no_stop_periods(TOMORROW), moment=NOW - timedelta(hours=1))
    publish_day(contracts["BOA00001"], TODAY - timedelta(days=1), moment=NOW - timedelta(days=2))
    acknowledge(contracts["BOA00001"], TOMORROW, actor="api:soa_9f2c", channel="api", moment=NOW)
    load_curves("BOA00001", TODAY - timedelta(days=1))
    client.get("/api/v1/effacement", HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR="80.12.34.56")
    flush_last_use()
    # its machine also holds the event stream (what the stream process writes on the token)
    ApiToken.objects.filter(contract=contracts["BOA00001"]).update(
        last_stream_at=NOW - timedelta(minutes=5), last_stream_ip="2a01:e0a:1:2::7"
    )
    compliance = run_now(date(2026, 11, 1), actor="test")
    return {"holder": str(holder.pk), "compliance_request": str(compliance.pk)}


@pytest.fixture
def operator_page(browser, live_server, client, backoffice_data):
    """make(width) → a Visitor signed in as an operator (the test client's session cookie)."""
    operator = make_operator(client)
    values = {
        **backoffice_data,
        "operator": str(operator.pk),
        "prices": staging.stage(PRICES, operator.pk, price_text()),
        "contracts_file": staging.stage(CONTRACTS_FILE, operator.pk, CONTRACTS_CSV),
        "consignes_file": staging.stage(CONSIGNES_FILE, operator.pk, consignes_text()),
    }
    session = client.cookies["sessionid"].value
    made: list[Visitor] = []

    def make(width: int) -> tuple[Visitor, dict]:
        visitor = Visitor(browser, live_server.url, width=width)
        visitor.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        made.append(visitor)
        return visitor, values

    yield make
    for visitor in made:
        visitor.close()


def visits(values: dict) -> list[tuple[str, str]]:
    """(screenshot name, path) of every visit in PAGES, with the test data's values filled in."""
    found = []
    for name, rows in PAGES.items():
        if isinstance(rows, NotAPage):
            continue
        for visit in rows:
            kwargs = {key: value.format(**values) for key, value in visit.kwargs.items()}
            path = reverse(f"backoffice:{name}", kwargs=kwargs)
            query = visit.query.format(**values)
            shot = f"bo-page-{name}" + (f"-{visit.name}" if visit.name else "")
            found.append((shot, f"{path}?{query}" if query else path))
    return found


@needs_chromium
@pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["390", "1280"])
def test_every_backoffice_page_fits_and_passes_axe(operator_page, width):
    visitor, values = operator_page(width)
    problems = []
    for shot, path in visits(values):
        response = visitor.go(path)
        visitor.screenshot(shot)
        if response is None or response.status != 200 or not visitor.page.url.endswith(path):
            problems.append(f"{path}: status {response and response.status} at {visitor.page.url}")
            continue
        if not visitor.page.locator('link[rel=stylesheet][href$="backoffice/backoffice.css"]').count():
            problems.append(f"{path}: without the back office's style sheet")
        overflow = visitor.horizontal_overflow()
        if overflow > 0:
            problems.append(f"{path}: scrolls {overflow} px sideways at {width} px")
        problems += [f"{path}: {problem}" for problem in visitor.accessibility_problems()]
        problems += [f"{path}: {problem}" for problem in visitor.problems]
        visitor.problems.clear()
    assert problems == []


@needs_chromium
def test_the_navigation_is_a_menu_on_a_phone(operator_page):
    phone, _ = operator_page(PHONE)
    phone.go("/backoffice/")
    contracts = phone.page.get_by_role("link", name="Contrats", exact=True)
    assert not contracts.is_visible()
    phone.page.get_by_text("Menu", exact=True).click()
    assert contracts.is_visible()
    phone.check_page("bo-menu-open")
    contracts.click()
    phone.page.wait_for_url("**/backoffice/contracts/")
    desktop, _ = operator_page(DESKTOP)
    desktop.go("/backoffice/")
    assert desktop.page.get_by_role("link", name="Contrats", exact=True).is_visible()
    assert not desktop.page.get_by_text("Menu", exact=True).is_visible()
