"""The back office in Debian's chromium, as an operator uses it: the control screen, the publication (upload the
prices → preview → publish), the bulk import of contracts with its dry run, and every other page — each page
screenshot at phone and desktop width and checked by axe-core (no serious or critical violation), with no
sideways scrolling and no script error.

They live beside the portal's browser tests to share their session-wide chromium and fixtures (``conftest.py``):
the back office sits behind the portal's login."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from smartoa.accounts.models import User
from smartoa.audit.models import AuditEvent
from smartoa.consignes.models import ConsigneVersion
from smartoa.contracts.models import Contract, EligibilityRule
from smartoa.domain.calendar import STEP_15, iso, steps
from smartoa.domain.schedule import no_stop_periods
from smartoa.notifications.models import OutboxMessage
from tests.browser import DESKTOP, PHONE, needs_chromium, totp_code
from tests.factories import acknowledge, publish_day, stop_periods
from tests.portal.conftest import NOW, TOMORROW, onboard
from tests.portal.test_journey import NEW_PASSWORD, login
from tests.portal.test_security import ready

pytestmark = needs_chromium
WIDTHS = pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["390", "1280"])


@pytest.fixture
def operator_browser(visitor, transactional_db, clock, mailbox):
    """make(width) → a chromium page signed in as the operator ops@example.org (password, then TOTP)."""
    secret = ready("ops@example.org", staff=True)

    def make(width: int):
        v = visitor(width=width)
        login(v, "ops@example.org", NEW_PASSWORD, totp_code(secret))
        v.page.wait_for_url(v.base_url + "/backoffice/")  # where the portal's login sends operators: the control screen
        return v

    return make


@pytest.fixture
def portfolio(transactional_db, clock, mailbox):
    """Four contracts; tomorrow BOA00001 is acknowledged, BOA00002 (no stop) is not, BOA00003 is unpublished,
    BOA00004 is too small to be eligible."""
    if not EligibilityRule.objects.exists():  # a transactional test's flush removed the migration's rules
        for sector, power in (("pv", 12), ("wind_onshore", 10), ("wind_offshore", 0)):
            EligibilityRule.objects.create(sector=sector, min_power_mw=Decimal(power), effective_from=date(2025, 1, 1))
    onboard(
        "BOA00001,Centrale de Beauce,pv,15,MWc,producteur@example.fr,gestion@example.fr,30001234567890\n",
        "BOA00002,Parc des Crêtes,wind_onshore,12,MW,producteur@example.fr,,\n",
        "BOA00003,Toits de Lyon,pv,13,MWc,lyon@example.fr,,\n",
        "BOA00004,Petit parc,pv,5,MWc,petit@example.fr,,\n",
    )
    contracts = {c.contract_id: c for c in Contract.objects.all()}
    publish_day(contracts["BOA00001"], TOMORROW, stop_periods(TOMORROW), moment=NOW - timedelta(hours=1))
    publish_day(contracts["BOA00002"], TOMORROW, no_stop_periods(TOMORROW), moment=NOW - timedelta(hours=1))
    acknowledge(contracts["BOA00001"], TOMORROW, actor="api:soa_9f2c", channel="api", moment=NOW)
    return contracts


@WIDTHS
def test_control_screen(operator_browser, portfolio, width):
    v = operator_browser(width)
    page = v.page
    v.go("/backoffice/")
    v.check_page("bo-control")
    assert "Consignes du mercredi 25 novembre 2026" in page.locator("h1").inner_text()
    assert "encore 6 h 30 min" in page.locator(".lead").inner_text()
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 3
    assert "BOA00002" in rows.nth(0).inner_text() and "À acquiescer" in rows.nth(0).inner_text()
    assert "BOA00001" in rows.nth(2).inner_text() and "api:soa_9f2c" in rows.nth(2).inner_text()
    page.locator("ul.counts a").filter(has_text="Non publiée").click()
    page.wait_for_url("**state=not_published")
    v.check_page("bo-control-not-published")
    assert page.locator("table.data tbody tr").count() == 1 and "BOA00003" in page.locator("table.data").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename == "acquiescements_2026-11-25.csv"


def price_file(tmp_path) -> str:
    lines = ["start,price"] + [
        f"{iso(moment)},{-8.25 if 52 <= n < 60 else 41.0}" for n, moment in enumerate(steps(TOMORROW, STEP_15))
    ]
    path = tmp_path / "prix-2026-11-26.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@WIDTHS
def test_publication_upload_preview_publish(operator_browser, portfolio, width, tmp_path, settings):
    v = operator_browser(width)
    page = v.page
    v.go("/backoffice/publication/")
    v.check_page("bo-publication")
    page.get_by_label("Jour de livraison").fill("2026-11-25")
    page.get_by_label("Prix du jour par quart d'heure (CSV start,price)").set_input_files(price_file(tmp_path))
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.wait_for_url("**/publication/preview/**")
    v.check_page("bo-publication-preview")
    assert "Arrêt 12:55–15:00" in page.locator("figcaption").inner_text()
    assert "BOA00004" in page.locator("table.data").inner_text()  # ineligible, with the reason
    assert "est sous le seuil de 12" in page.locator("table.data").inner_text()
    assert page.get_by_role("button", name="Publier").count() == 0  # two of them already have a consigne
    page.get_by_role("button", name="Exclure les contrats déjà publiés").click()
    page.wait_for_url("**exclude=BOA00001**")
    v.check_page("bo-publication-preview-excluded")
    page.get_by_role("button", name="Publier 1 consigne").click()
    page.wait_for_url("**/backoffice/?day=2026-11-25")
    assert "1 consigne publiée pour le 25/11/2026 : Arrêt 12:55–15:00." in page.locator(".messages").inner_text()
    v.check_page("bo-publication-done")
    version = ConsigneVersion.objects.get(contract__contract_id="BOA00003")
    assert version.created_by == "ops@example.org"
    assert AuditEvent.objects.get(action="consigne.published", actor="ops@example.org").ip == "127.0.0.1"


def contracts_file(tmp_path, *lines: str) -> str:
    path = tmp_path / "contrats.csv"
    path.write_text(
        "contract_id,name,sector,installed_power,power_unit,holder_email,manager_email,network_id\n" + "".join(lines)
    )
    return str(path)


@WIDTHS
def test_bulk_import_with_its_dry_run(operator_browser, portfolio, width, tmp_path):
    v = operator_browser(width)
    page = v.page
    v.go("/backoffice/contracts/")
    v.check_page("bo-contracts")
    page.get_by_role("link", name="Importer un fichier de contrats").click()
    page.wait_for_url("**/contracts/import/")
    v.check_page("bo-import")
    bad = contracts_file(
        tmp_path, "BOA00005,Parc,pv,12,MWc,new@example.fr,,\n", "boa6,Parc,hydro,12,MWc,x@example.fr,,\n"
    )
    page.get_by_label("Fichier CSV des contrats").set_input_files(bad)
    page.get_by_role("button", name="Vérifier le fichier (rien n'est écrit)").click()
    alert = page.locator(".alert.error")
    assert "ligne 3 : contract_id 'boa6' doit compter 3 à 32 lettres majuscules et chiffres" in alert.inner_text()
    v.check_page("bo-import-refused")
    good = contracts_file(
        tmp_path,
        "BOA00001,Centrale de Beauce,pv,15,MWc,producteur@example.fr,autre-gestion@example.fr,30001234567890\n",
        "BOA00005,Parc de la Plaine,pv,12,MWc,plaine@example.fr,,\n",
    )
    page.get_by_label("Fichier CSV des contrats").set_input_files(good)
    page.get_by_role("button", name="Vérifier le fichier (rien n'est écrit)").click()
    page.wait_for_url("**/contracts/import/preview/**")
    v.check_page("bo-import-dry-run")
    assert "gestion@example.fr → autre-gestion@example.fr" in page.locator(".attention").inner_text()
    assert not Contract.objects.filter(contract_id="BOA00005").exists()
    page.get_by_role("button", name="Importer pour de bon").click()
    page.wait_for_url("**/backoffice/contracts/")
    assert "Contrats créés : 1 ; mis à jour : 1. Comptes créés : 2" in page.locator(".messages").inner_text()
    v.check_page("bo-import-done")
    assert User.objects.filter(email="plaine@example.fr").exists()
    assert OutboxMessage.objects.filter(kind="email", recipient="plaine@example.fr").exists()


@WIDTHS
def test_every_other_page(operator_browser, portfolio, width):
    v = operator_browser(width)
    holder = User.objects.get(email="producteur@example.fr")
    pages = {
        "bo-modify": "/backoffice/publication/modify/",
        "bo-hlar": "/backoffice/hlar/",
        "bo-contract": "/backoffice/contracts/BOA00001/",
        "bo-accounts": "/backoffice/accounts/",
        "bo-account-new": "/backoffice/accounts/new/",
        "bo-reset-totp": f"/backoffice/accounts/{holder.pk}/reset-totp/",
        "bo-audit": "/backoffice/audit/",
        "bo-curves": "/backoffice/curves/upload/",
    }
    for name, path in pages.items():
        assert v.go(path).status == 200, path
        v.check_page(name)
    v.go("/backoffice/hlar/")
    v.page.get_by_label("Nouvelle HLAR, heure de Paris la veille (HH:MM)").fill("17:45")
    v.page.get_by_role("button", name="Fixer l'HLAR").click()
    v.page.wait_for_url("**/hlar/?day=2026-11-25")
    assert "HLAR du 25/11/2026 fixée au 24/11/2026 à 17:45" in v.page.locator(".messages").inner_text()
    v.check_page("bo-hlar-set")


@WIDTHS
def test_the_shared_frame_for_operators(operator_browser, portfolio, width):
    """The back office stands on the shared web frame: its language button, and the error pages lead operators
    home to the control screen (producers to their contracts)."""
    v = operator_browser(width)
    assert v.go("/backoffice/nulle-part/").status == 404
    assert "Cette page n'existe pas" in v.page.locator("h1").inner_text()
    home = v.page.get_by_role("link", name="Retour à l'accueil")
    assert home.get_attribute("href") == "/backoffice/"
    v.check_page("bo-error-404")
    v.go("/backoffice/")
    v.page.get_by_role("button", name="English").click()
    v.page.wait_for_url(v.base_url + "/backoffice/")
    if width == PHONE:  # the navigation is behind a disclosure on a phone
        v.page.locator("details.menu > summary").click()
    assert "Daily check" in v.page.locator("nav").inner_text()
    assert v.page.locator("html").get_attribute("lang") == "en"
    v.check_page("bo-control-en")
    v.page.get_by_role("button", name="Français").click()
    v.page.wait_for_url(v.base_url + "/backoffice/")
    assert v.page.locator("html").get_attribute("lang") == "fr"
