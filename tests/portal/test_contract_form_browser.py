"""One contract in a form, in Debian's chromium: create one (a refused power first, in French), edit it with the
manager change confirmed, deactivate it after reading what happens, reactivate it — each page screenshot at
phone and desktop width, checked by axe-core, no sideways scrolling."""

from __future__ import annotations

import pytest

from smartoa.contracts.models import ApiToken, Contract
from tests.browser import DESKTOP, PHONE, needs_chromium
from tests.factories import make_token
from tests.portal.test_backoffice_browser import operator_browser, portfolio  # noqa: F401  (fixtures)

pytestmark = needs_chromium
WIDTHS = pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["390", "1280"])


@WIDTHS
def test_create_edit_deactivate_a_contract(operator_browser, portfolio, width):  # noqa: F811
    v = operator_browser(width)
    page = v.page
    v.go("/backoffice/contracts/")
    page.get_by_role("link", name="Nouveau contrat").click()
    page.wait_for_url("**/backoffice/contracts/new/")
    v.check_page("bo-contract-new")
    page.get_by_label("Identifiant du contrat").fill("BOA00007")
    page.get_by_label("Nom de l'installation").fill("Ferme solaire du Lot")
    page.get_by_label("Puissance installée").fill("14,5678")
    page.get_by_label("E-mail du producteur (titulaire)").fill("nouveau@example.fr")
    page.get_by_role("button", name="Créer le contrat").click()
    assert "plus de 3 décimales" in page.locator(".field.has-error").inner_text()
    assert not Contract.objects.filter(contract_id="BOA00007").exists()
    v.check_page("bo-contract-new-refused")
    page.get_by_label("Puissance installée").fill("14,5")
    page.get_by_role("button", name="Créer le contrat").click()
    page.wait_for_url("**/backoffice/contracts/BOA00007/")
    assert "Contrat BOA00007 créé." in page.locator(".messages").inner_text()

    make_token(Contract.objects.get(contract_id="BOA00007"))
    page.get_by_role("link", name="Modifier le contrat et ses comptes").click()
    page.get_by_label("E-mail du gestionnaire (facultatif)").fill("gestion@example.fr")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/backoffice/contracts/BOA00007/")  # no manager before: nothing to confirm
    page.get_by_role("link", name="Modifier le contrat et ses comptes").click()
    v.check_page("bo-contract-edit")
    page.get_by_label("E-mail du gestionnaire (facultatif)").fill("autre@example.fr")
    page.get_by_role("button", name="Enregistrer").click()
    assert "sera remplacé par autre@example.fr" in page.locator(".alert").first.inner_text()
    v.check_page("bo-contract-edit-confirm")
    page.get_by_role("button", name="Confirmer et changer de gestionnaire").click()
    page.wait_for_url("**/backoffice/contracts/BOA00007/")

    make_token(Contract.objects.get(contract_id="BOA00007"))
    page.get_by_role("link", name="Désactiver…").click()
    assert "Désactiver le contrat BOA00007 ?" in page.locator("h1").inner_text()
    assert "est révoqué" in page.locator("main").inner_text()
    v.check_page("bo-contract-deactivate")
    page.get_by_role("button", name="Désactiver le contrat").click()
    page.wait_for_url("**/backoffice/contracts/BOA00007/")
    assert not ApiToken.objects.filter(contract__contract_id="BOA00007", revoked_at__isnull=True).exists()
    page.get_by_role("link", name="Réactiver…").click()
    v.check_page("bo-contract-reactivate")
    page.get_by_role("button", name="Réactiver le contrat").click()
    page.wait_for_url("**/backoffice/contracts/BOA00007/")
    assert Contract.objects.get(contract_id="BOA00007").active
