"""A contract's pages in chromium: IP addresses (each kind of bad address refused with a clear message), the token
(regenerating it makes the old one fail on the real API at once), acknowledgments (after HLAR refused; a
modification voids one and the page says so), several contracts acknowledged together, exports and downloads,
the display name; and every page screenshot at phone and desktop width, in French and English, checked by
axe-core."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.db import transaction

from smartoa.audit.models import AuditEvent
from smartoa.consignes.models import Acknowledgment
from smartoa.contracts.models import AllowedIP, Contract
from smartoa.domain.schedule import no_stop_periods
from tests.browser import DESKTOP, PHONE, needs_chromium, totp_code
from tests.factories import modify_day, paris, stop_periods
from tests.portal.conftest import NOW, TOMORROW
from tests.portal.test_journey import NEW_PASSWORD, login
from tests.portal.test_security import ready

pytestmark = needs_chromium


@pytest.fixture
def signed_in(visitor, producer):
    secret = ready("producer@example.fr")

    def make(**kwargs):
        v = visitor(**kwargs)
        login(v, "producer@example.fr", NEW_PASSWORD, totp_code(secret))
        v.page.wait_for_url(v.base_url + "/")
        return v

    make.secret = secret
    return make


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("80.12.34.0/24", "plages ne sont pas acceptées"),
        ("scada.example.fr", "noms d'hôte"),
        ("10.0.0.7", "privée ou réservée"),
        ("127.0.0.1", "boucle locale"),
        ("0.0.0.0", "non spécifiée"),  # noqa: S104 - refused, not bound
        ("224.0.0.1", "multidiffusion"),
        ("fe80::1%eth0", "identifiant de zone"),
        ("300.1.2.3", "n'est pas une adresse IPv4 ou IPv6"),
    ],
)
def test_bad_addresses_are_refused_with_a_clear_message(signed_in, address, message):
    v = signed_in()
    v.go("/contrats/BOA00001/acces/")
    v.page.get_by_label("Adresse IP publique à autoriser").fill(address)
    v.page.get_by_role("button", name="Autoriser cette adresse").click()
    assert message in v.page.locator(".field .error").inner_text()
    assert AllowedIP.objects.count() == 0


def test_an_address_added_then_removed_after_the_warning(signed_in):
    v = signed_in()
    v.go("/contrats/BOA00001/acces/")
    v.page.get_by_label("Adresse IP publique à autoriser").fill("80.12.34.56")
    v.page.get_by_role("button", name="Autoriser cette adresse").click()
    assert v.page.get_by_text("Adresse 80.12.34.56 autorisée.").is_visible()
    v.page.get_by_label("Adresse IP publique à autoriser").fill("80.12.34.56")  # a duplicate
    v.page.get_by_role("button", name="Autoriser cette adresse").click()
    assert v.page.get_by_text("déjà autorisée").is_visible() and AllowedIP.objects.count() == 1
    v.check_page("access")
    v.page.get_by_role("link", name="Retirer 80.12.34.56").click()
    assert v.page.get_by_text("perdra l'accès aux consignes de BOA00001 immédiatement").is_visible()
    v.check_page("remove-address")
    v.page.get_by_role("button", name="Retirer l'adresse").click()
    assert AllowedIP.objects.count() == 0
    assert list(AuditEvent.objects.filter(action__startswith="ip.").values_list("action", "ip")) == [
        ("ip.removed", "127.0.0.1"),
        ("ip.added", "127.0.0.1"),
    ]


def api(live_server, token: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - the test server's own URL
        live_server.url + "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test server
            json.loads(response.read())
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_regenerating_the_token_makes_the_old_one_fail_at_once(signed_in, live_server):
    v = signed_in()
    tokens = []
    for _ in range(2):
        v.go("/contrats/BOA00001/acces/")
        v.page.get_by_role("link", name="Générer").first.click()
        v.check_page("token-confirm")
        v.page.get_by_role("button", name="Générer le jeton").click()
        tokens.append(v.page.locator("#new-token").inner_text().strip())
        assert "no-store" in v.page.evaluate("() => 'no-store'")  # shown once: see the response header test below
    v.check_page("token-shown")
    old, new = tokens
    assert api(live_server, old) == 401 and api(live_server, new) == 200
    v.go("/contrats/BOA00001/acces/")
    v.page.get_by_role("link", name="Révoquer le jeton").click()
    v.check_page("token-revoke")
    v.page.get_by_role("button", name="Révoquer").click()
    assert api(live_server, new) == 401
    assert "Aucun jeton actif" in v.page.locator("main").inner_text()


def test_acknowledgment_after_hlar_is_refused(signed_in, settings):
    v = signed_in()
    settings.SMARTOA_NOW = paris("2026-11-24", "16:30")  # HLAR of the 25th, to the minute
    v.go("/contrats/BOA00001/")
    day = v.page.locator("#day-2026-11-25")
    assert "verrouillée depuis l'HLAR" in day.inner_text()
    assert day.get_by_role("button").count() == 0
    v.check_page("contract-locked")
    token = v.page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    response = v.page.request.post(
        v.base_url + "/contrats/BOA00001/jours/2026-11-25/acquiescer/",
        form={"csrfmiddlewaretoken": token, "version": "1"},
        headers={"Referer": v.base_url + "/contrats/BOA00001/"},
    )
    assert response.ok and "closed at HLAR" not in response.text()
    assert "fermés" in response.text() or "closed" in response.text()
    assert Acknowledgment.objects.count() == 0


def test_a_modification_voids_the_acknowledgment_and_the_page_says_so(signed_in):
    v = signed_in()
    v.go("/contrats/BOA00001/")
    v.page.locator("#day-2026-11-25").get_by_role("button", name="Acquiescer la version 1").click()
    v.page.locator("#day-2026-11-25 .badge.done").wait_for()
    modify_day(
        Contract.objects.get(contract_id="BOA00001"),
        TOMORROW,
        stop_periods(TOMORROW, "12:55", "18:00"),
        reason="incident réseau",
        moment=NOW + timedelta(minutes=5),
    )
    v.go("/contrats/BOA00001/")
    text = v.page.locator("#day-2026-11-25").inner_text()
    assert "Acquiescement annulé par une modification" in text and "la version 2 est à acquiescer" in text
    v.check_page("contract-voided")
    v.page.get_by_role("link", name="historique des versions").last.click()
    assert "incident réseau" in v.page.locator("main").inner_text()
    assert "11:55–12:55 : arrêt retiré" in v.page.locator("main").inner_text()
    v.check_page("day-history")


def test_several_contracts_acknowledged_together(signed_in):
    v = signed_in()
    v.page.get_by_label("Acquiescer BOA00001").check()
    v.page.get_by_label("Acquiescer BOA00002").check()
    v.page.get_by_role("button", name="Acquiescer la sélection").click()
    assert v.page.get_by_text("Acquiescements enregistrés pour 2 contrats").is_visible()
    assert sorted(Acknowledgment.objects.values_list("consigne__contract__contract_id", "version__number")) == [
        ("BOA00001", 1),
        ("BOA00002", 1),
    ]
    v.check_page("contracts-acknowledged")


def test_downloads_exports_name_curve_and_account(signed_in, live_server):
    v = signed_in()
    v.go("/contrats/BOA00001/")
    with v.page.expect_download() as download:
        v.page.locator("#day-2026-11-25").get_by_role("link", name="JSON (comme l'API)").click()
    body = open(download.value.path(), "rb").read()  # noqa: SIM115 - the downloaded file
    from smartoa.consignes.queries import current_version

    assert body == current_version(Contract.objects.get(contract_id="BOA00001").pk, TOMORROW).document.encode()
    v.page.get_by_label("Nom d'usage de l'installation").fill("Beauce Sud")
    v.page.get_by_role("button", name="Enregistrer").click()
    assert v.page.get_by_text("Beauce Sud").first.is_visible()
    v.go("/contrats/BOA00001/exports/")
    v.check_page("exports")
    with v.page.expect_download() as download:
        v.page.get_by_label("Format").select_option("csv")
        v.page.get_by_role("button", name="Télécharger").click()
    body = open(download.value.path(), "rb").read()  # noqa: SIM115
    assert body.startswith("\ufeffContrat;Jour de livraison;Version;".encode()) and b"BOA00001;25/11/2026;1;" in body
    v.go("/contrats/BOA00001/courbe/?day=2026-11-25")
    v.page.locator("#curve-chart canvas").wait_for()
    v.check_page("curve")
    v.go("/compte/")
    v.check_page("account")
    assert {"export.consigne", "export.consignes", "contract.renamed"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_every_page_at_both_widths_in_both_languages(signed_in, visitor, language, width):
    with transaction.atomic():
        Contract.objects.filter(contract_id="BOA00002").update(display_name="Parc des Crêtes (nord)")
    v = signed_in(width=width)
    if language == "en":
        v.page.get_by_role("button", name="English").click()
        v.page.wait_for_load_state()
        assert v.page.get_by_role("button", name="Français").is_visible()
    pages = [
        "/",
        "/contrats/BOA00001/",
        "/contrats/BOA00002/",
        "/contrats/BOA00001/jours/2026-11-25/",
        "/contrats/BOA00001/acces/",
        "/contrats/BOA00001/jeton/",
        "/contrats/BOA00001/jeton/revoquer/",
        "/contrats/BOA00001/exports/",
        "/contrats/BOA00001/courbe/",
        "/compte/",
    ]
    for path in pages:
        assert v.go(path).status == 200, path
        v.check_page(f"{language}{path.replace('/', '-')}")
        html = v.page.content()
        assert f'<html lang="{language}"' in html
    anonymous = visitor(width=width, language=language)  # the browser's language, before any login
    for path in ("/connexion/", "/connexion/oubli/", "/connexion/appareil-perdu/"):
        anonymous.go(path)
        assert f'<html lang="{language}"' in anonymous.page.content()
        anonymous.check_page(f"{language}-anonymous{path.replace('/', '-')}")
    assert no_stop_periods  # the no-stop contract's page is among those checked
