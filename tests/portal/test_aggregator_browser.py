"""An aggregator's day in chromium, with 64 contracts: the Contrats table filtered, searched, every contract to
acknowledge selected and acknowledged, then the rest of the filter after its review page; one address declared on
every contract without one (a typo refused first, nothing changed), removed from two; new tokens for several
contracts, their CSV downloaded and checked against the API. At phone and desktop width, in French and English,
every page screenshot and checked by axe-core."""

from __future__ import annotations

import csv
import re

import pytest

from smartoa.consignes.models import Acknowledgment
from smartoa.contracts.models import AllowedIP, ApiToken
from smartoa.contracts.tokens import hash_token
from tests.browser import DESKTOP, PHONE, needs_chromium, totp_code
from tests.factories import PUBLIC_IP
from tests.portal.aggregator import NOW, contract_id, kind_of, make_aggregator
from tests.portal.test_contract_pages import api
from tests.portal.test_journey import NEW_PASSWORD, login
from tests.portal.test_security import ready

pytestmark = needs_chromium

COUNT = 64
WORDS = {
    "fr": {
        "to_acknowledge": "À acquiescer",
        "no_address": "Sans adresse IP",
        "no_token": "Sans jeton",
        "search": "Identifiant ou nom",
        "show": "Afficher",
        "select_all": "Tout sélectionner",
        "selected": "5 sélectionnés",
        "acknowledge_selection": "Acquiescer la sélection",
        "recorded": "Acquiescements enregistrés pour {n} contrats",
        "acknowledge_all": "Acquiescer les {n} contrats à acquiescer…",
        "acknowledge_these": "Acquiescer ces {n} contrats",
        "bulk_hint": "Déclarer une adresse ou générer les jetons de ces {n} contrats en une fois",
        "address": "Adresse IP publique",
        "select_page": "Tout sélectionner sur cette page",
        "add": "Ajouter à la sélection",
        "refused": "privée ou réservée",
        "added": "Adresse {ip} ajoutée à {n} contrats.",
        "whole_filter": "Appliquer aux {n} contrats de ce filtre",
        "remove": "Retirer de la sélection…",
        "remove_confirm": "Retirer l'adresse de ces 2 contrats",
        "removed": "Adresse {ip} retirée de 2 contrats",
        "tokens": "Générer les jetons de la sélection…",
        "generate": "Générer les {n} jetons",
        "csv": "Télécharger le fichier CSV (contrat, jeton, expiration)",
        "copy_command": "Copier la commande",
        "copied": "Copié.",
        "select": "Sélectionner {id}",
    },
    "en": {
        "to_acknowledge": "To acknowledge",
        "no_address": "No IP address",
        "no_token": "No token",
        "search": "Id or name",
        "show": "Show",
        "select_all": "Select all",
        "selected": "5 selected",
        "acknowledge_selection": "Acknowledge the selection",
        "recorded": "Acknowledgments recorded for {n} contracts",
        "acknowledge_all": "Acknowledge the {n} contracts awaiting acknowledgment…",
        "acknowledge_these": "Acknowledge these {n} contracts",
        "bulk_hint": "Declare an address or generate the tokens of these {n} contracts in one step",
        "address": "Public IP address",
        "select_page": "Select all on this page",
        "add": "Add to the selection",
        "refused": "private or reserved",
        "added": "Address {ip} added to {n} contracts.",
        "whole_filter": "Apply to the {n} contracts of this filter",
        "remove": "Remove from the selection…",
        "remove_confirm": "Remove the address from these 2 contracts",
        "removed": "Address {ip} removed from 2 contracts",
        "tokens": "Generate the selection's tokens…",
        "generate": "Generate the {n} tokens",
        "csv": "Download the CSV file (contract, token, expiry)",
        "copy_command": "Copy the command",
        "copied": "Copied.",
        "select": "Select {id}",
    },
}
LANGUAGES = pytest.mark.parametrize("language", ["fr", "en"])
WIDTHS = pytest.mark.parametrize("width", [PHONE, DESKTOP])


@pytest.fixture
def aggregator(visitor, transactional_db, settings):
    """aggregator@example.fr, holding COUNT contracts, signed in at ``width`` in ``language``."""
    settings.SMARTOA_NOW = NOW
    make_aggregator(COUNT)
    secret = ready("aggregator@example.fr")

    def make(width: int, language: str):
        v = visitor(width=width)
        login(v, "aggregator@example.fr", NEW_PASSWORD, totp_code(secret))
        v.page.wait_for_url(v.base_url + "/")
        if language == "en":
            v.page.get_by_role("button", name="English").click()
            v.page.wait_for_load_state()
        v.words = WORDS[language]
        v.language = language
        return v

    return make


def row_ids(v) -> list[str]:
    return v.page.locator("table tbody th.contract a").all_inner_texts()


def to_acknowledge() -> list[str]:
    return [contract_id(n) for n in range(COUNT) if kind_of(n) in ("to_do", "voided", "ready")]


def acknowledged_current() -> set[str]:
    """The contracts whose consigne of tomorrow is acknowledged in its current version."""
    rows = Acknowledgment.objects.values_list(
        "consigne__contract__contract_id", "version_id", "consigne__current_version_id"
    )
    return {cid for cid, version, current in rows if version == current}


@LANGUAGES
@WIDTHS
def test_filter_search_select_all_and_acknowledge(aggregator, width, language):
    v = aggregator(width, language)
    w, page = v.words, v.page
    v.check_page(f"{language}-aggregator-contracts")
    assert 'class="countdown"' in page.content()
    page.locator("nav.filters").get_by_role("link", name=re.compile("^" + w["to_acknowledge"])).click()
    page.wait_for_url("**/?filtre=a-acquiescer")
    assert page.locator("table tbody tr").count() == 32
    assert page.locator("table tbody input[name=ack]").count() == 32  # every row to acknowledge has its box
    page.get_by_label(w["search"]).fill("AGG0001")
    page.get_by_role("button", name=w["show"], exact=True).click()
    page.wait_for_url(re.compile(r".*q=AGG0001.*"))
    shown = row_ids(v)
    assert sorted(shown) == ["AGG00010", "AGG00012", "AGG00014", "AGG00016", "AGG00018"]
    page.get_by_label(w["select_all"]).check()
    assert page.locator(".bulk-bar .selected-count").inner_text() == w["selected"]
    v.check_page(f"{language}-aggregator-selected")
    page.get_by_role("button", name=w["acknowledge_selection"]).click()
    page.wait_for_load_state()
    assert w["recorded"].format(n=5) in page.locator(".messages").inner_text()
    assert set(shown) <= acknowledged_current()
    assert "q=AGG0001" in page.url  # back to the same listing
    v.check_page(f"{language}-aggregator-acknowledged")
    v.go("/")
    page.get_by_role("link", name=w["acknowledge_all"].format(n=27)).click()
    page.wait_for_url("**/acquiescer/tout/?filtre=a-acquiescer")
    v.check_page(f"{language}-aggregator-review")
    page.get_by_role("button", name=w["acknowledge_these"].format(n=27)).click()
    page.wait_for_load_state()
    assert w["recorded"].format(n=27) in page.locator(".messages").inner_text()
    assert set(to_acknowledge()) <= acknowledged_current()
    assert page.locator("table tbody input[name=ack]").count() == 0  # nothing left to tick
    v.check_page(f"{language}-aggregator-all-acknowledged")


@LANGUAGES
@WIDTHS
def test_one_address_on_every_contract_then_new_tokens_downloaded(aggregator, width, language, live_server):
    v = aggregator(width, language)
    w, page = v.words, v.page
    page.locator("nav.filters").get_by_role("link", name=re.compile("^" + w["no_address"])).click()
    page.get_by_role("link", name=w["bulk_hint"].format(n=54)).click()
    page.wait_for_url("**/acces-api/?filtre=sans-adresse")
    v.check_page(f"{language}-bulk-access")

    page.get_by_label(w["select"].format(id="AGG00000")).check()
    page.get_by_label(w["select"].format(id="AGG00001")).check()
    page.get_by_label(w["address"], exact=True).fill("10.0.0.7")
    page.get_by_role("button", name=w["add"]).click()
    assert w["refused"] in page.locator("#bulk-address-error").inner_text()
    assert page.get_by_label(w["select"].format(id="AGG00001")).is_checked()  # the selection is kept
    assert AllowedIP.objects.filter(address="10.0.0.7").count() == 0
    v.check_page(f"{language}-bulk-access-refused")

    page.get_by_label(w["select_page"]).check()
    page.get_by_label(w["address"], exact=True).fill(PUBLIC_IP)
    page.get_by_role("button", name=w["add"]).click()
    page.wait_for_load_state()
    assert w["added"].format(ip=PUBLIC_IP, n=50) in page.locator(".messages").inner_text()
    page.get_by_label(re.compile(re.escape(w["whole_filter"].format(n=4)))).check()
    page.get_by_label(w["address"], exact=True).fill(PUBLIC_IP)
    page.get_by_role("button", name=w["add"]).click()
    page.wait_for_load_state()
    assert w["added"].format(ip=PUBLIC_IP, n=4) in page.locator(".messages").inner_text()
    assert AllowedIP.objects.filter(address=PUBLIC_IP).count() == COUNT

    v.go("/acces-api/?q=AGG0000")
    page.get_by_label(w["select"].format(id="AGG00000")).check()
    page.get_by_label(w["select"].format(id="AGG00001")).check()
    page.get_by_label(w["address"], exact=True).fill(PUBLIC_IP)
    page.get_by_role("button", name=w["remove"]).click()
    v.check_page(f"{language}-bulk-address-remove")
    page.get_by_role("button", name=w["remove_confirm"]).click()
    page.wait_for_load_state()
    assert w["removed"].format(ip=PUBLIC_IP) in page.locator(".messages").inner_text()
    assert AllowedIP.objects.filter(address=PUBLIC_IP).count() == COUNT - 2

    v.go("/acces-api/?filtre=sans-jeton&q=AGG0000")
    page.get_by_label(w["select_page"]).check()
    picked = row_ids(v)
    assert picked == ["AGG00000", "AGG00001", "AGG00002", "AGG00003", "AGG00006", "AGG00007", "AGG00008", "AGG00009"]
    page.get_by_role("button", name=w["tokens"]).click()
    v.check_page(f"{language}-bulk-tokens-confirm")
    with page.expect_response(re.compile(r".*/acces-api/jetons/$")) as shown:
        page.get_by_role("button", name=w["generate"].format(n=8)).click()
    assert shown.value.headers["cache-control"] == "no-store"
    v.check_page(f"{language}-bulk-tokens-shown")
    with page.expect_download() as download:
        page.get_by_role("link", name=w["csv"]).click()
    assert download.value.suggested_filename.endswith(".csv")
    with open(download.value.path(), newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["contract_id", "token", "expires_at"] and [r[0] for r in rows[1:]] == picked
    active = dict(ApiToken.objects.filter(revoked_at__isnull=True).values_list("contract__contract_id", "token_hash"))
    for cid, token, expires in rows[1:]:
        assert active[cid] == hash_token(token) and expires.startswith("2027-05-26T")
        assert page.locator(f"#token-{cid}").inner_text() == token
    assert api(live_server, rows[1][1]) == 200  # a new token works on the real API at once

    v.go("/contrats/AGG00000/acces/")
    v.context.grant_permissions(["clipboard-read", "clipboard-write"])
    assert "/api/v1/effacement" in page.locator("#curl-example").inner_text()
    page.get_by_role("button", name=w["copy_command"]).click()
    page.locator(".copied", has_text=w["copied"]).wait_for()
