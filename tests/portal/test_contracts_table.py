"""The Contrats page as a table (Django's test client): counters, filters and their counts, search, sort and pages
from the query string; a checkbox only on the contracts that need acknowledging; the acknowledgment of the ticked
contracts, of a whole page, of a whole filter after a review page — each for the version shown, refusals named with
their reason; and a number of queries that does not depend on the number of contracts held."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartoa.consignes.models import Acknowledgment
from smartoa.consignes.services import modify
from smartoa.domain.schedule import ConsigneDocument
from smartoa.portal.listing import FILTERS, PER_PAGE
from tests.factories import clock, paris, signed_in, stop_periods
from tests.portal.aggregator import NOW, TOMORROW, contract_id, kind_of, make_aggregator

HOST = {"HTTP_HOST": "localhost"}


@pytest.fixture
def page(client, settings, db):
    """page(count, url) signs in an aggregator holding ``count`` contracts and returns the HTML of ``url``."""
    settings.SMARTOA_NOW = NOW
    made = {}

    def get(count: int, url: str = "/", status: int = 200) -> str:
        if count not in made:
            made[count] = make_aggregator(count, f"agg{count}@example.fr", first=sum(made) + 1000 * len(made))
            signed_in(client, made[count])
        response = client.get(url, **HOST)
        assert response.status_code == status, response.content[:500]
        return response.content.decode()

    return get


def ids(html: str) -> list[str]:
    """The contract ids of the table's rows, in order."""
    return re.findall(r'<th scope="row" class="contract">.*?<a href="/contrats/(\w+)/">', html, re.DOTALL)


def boxes(html: str) -> list[str]:
    return re.findall(r'name="ack" value="([\w:]+)"', html)


def expected(count: int, *kinds: str) -> list[str]:
    return [contract_id(n) for n in range(count) if not kinds or kind_of(n) in kinds]


def test_the_counters_and_every_filter_with_its_count(page):
    html = page(12)
    text = re.sub(r"\s+", " ", html)
    assert "6 à acquiescer sur 12" in text and "avant 16:30" in text and 'class="countdown"' in text
    assert "dont 2 modifiées depuis votre acquiescement" in text
    counts = dict(re.findall(r'<a href="/(?:\?filtre=([\w-]+))?"[^>]*>[^<]+<span class="count">(\d+)</span>', html))
    assert counts == {
        "": "12",
        "a-acquiescer": "6",
        "modifiees": "2",
        "acquiescees": "4",
        "sans-jeton": "8",
        "sans-adresse": "10",
    }
    assert "non-acquiescees" not in html  # only after HLAR
    assert sorted(ids(page(12, "/?filtre=a-acquiescer"))) == expected(12, "to_do", "voided", "ready")
    assert sorted(ids(page(12, "/?filtre=modifiees"))) == expected(12, "voided")
    assert sorted(ids(page(12, "/?filtre=acquiescees"))) == expected(12, "done", "done_token")
    assert sorted(ids(page(12, "/?filtre=sans-jeton"))) == expected(12, "to_do", "done", "voided", "unpublished")
    assert sorted(ids(page(12, "/?filtre=sans-adresse"))) == sorted(set(expected(12)) - set(expected(12, "ready")))


def test_a_checkbox_only_where_the_contract_needs_acknowledging_now(page):
    html = page(12)
    assert sorted(v.split(":")[0] for v in boxes(html)) == expected(12, "to_do", "voided", "ready")
    assert "AGG00002:2" in boxes(html) and "AGG00000:1" in boxes(html)  # voided: the new version
    assert "Acquiescée</span>" in html and "par someone@example.fr, le 24/11/2026 à 09:00" in html
    assert "Modifiée : à acquiescer</span>" in html and "version 2 (la version 1 était acquiescée)" in html
    assert "Pas encore publiée" in html and "Arrêt 11:55–18:00" in html and "Pas d&#x27;arrêt" in html


def test_after_hlar_nothing_can_be_ticked_and_the_missed_ones_are_counted(page, settings):
    settings.SMARTOA_NOW = paris("2026-11-24", "16:30")
    html = page(12)
    assert boxes(html) == [] and "Acquiescer la sélection" not in html
    assert "6 non acquiescées sur 12" in re.sub(r"\s+", " ", html) and "HLAR passée" in html
    assert sorted(ids(page(12, "/?filtre=non-acquiescees"))) == expected(12, "to_do", "voided", "ready")
    assert 'href="/?filtre=a-acquiescer"' not in html


def test_search_by_id_or_name_and_sort(page):
    page(12)
    assert ids(page(12, "/?q=agg0001")) == ["AGG00010", "AGG00011"]
    assert sorted(ids(page(12, "/?q=%C3%A9olien+00"))) == [contract_id(n) for n in range(1, 10, 2)]
    assert ids(page(12, "/?tri=id")) == expected(12)
    by_name = ids(page(12, "/?tri=nom"))
    assert by_name[:6] == [contract_id(n) for n in range(0, 12, 2)]  # "Centrale solaire …" before "Parc éolien …"
    by_state = ids(page(12))
    assert by_state[:2] == ["AGG00002", "AGG00008"] and by_state[-1] in expected(12, "done", "done_token")
    html = page(12, "/?q=AGG0001&filtre=a-acquiescer")
    assert ids(html) == ["AGG00010"]
    assert 'href="/?filtre=acquiescees&amp;q=AGG0001"' in html  # filter links keep the search
    assert "Aucun contrat ne correspond" in page(12, "/?q=zzz")


def test_pages_of_fifty(page):
    first = page(60, "/?tri=id")
    assert ids(first) == expected(60)[:PER_PAGE] and "Contrats 1 à 50 sur 60" in first
    assert 'href="/?tri=id&amp;page=2" rel="next"' in first
    second = page(60, "/?tri=id&page=2")
    assert ids(second) == expected(60)[PER_PAGE:] and "Page 2 sur 2" in second
    assert ids(page(60, "/?tri=id&page=99")) == ids(second)  # past the end: the last page


@pytest.mark.parametrize("query", ["filtre=nope&tri=nope&page=-1", "page=abc", "q=" + "x" * 500, "filtre=&q="])
def test_odd_query_strings_fall_back_to_the_defaults(page, query):
    assert "Vos contrats" in page(6, "/?" + query)


@pytest.mark.parametrize("listing", [f"filtre={f.key}" for f in FILTERS] + ["q=AGG&tri=nom", "tri=id&page=1"])
def test_the_number_of_queries_does_not_depend_on_the_number_of_contracts_held(client, settings, db, listing):
    settings.SMARTOA_NOW = NOW
    queries = []
    for count, first in ((3, 0), (30, 100)):
        signed_in(client, make_aggregator(count, f"agg{count}@example.fr", first=first))
        client.get("/?" + listing, **HOST)  # the session and the timelines' cache, as on any later visit
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/?" + listing, **HOST).status_code == 200
        queries.append(len(captured))
    assert queries[0] == queries[1], listing
    assert queries[0] <= 16


def test_the_number_of_queries_after_hlar_too(client, settings, db):
    settings.SMARTOA_NOW = paris("2026-11-24", "17:00")
    found = []
    for count, first in ((3, 0), (30, 100)):
        with clock(NOW):
            user = make_aggregator(count, f"agg{count}@example.fr", first=first)
        signed_in(client, user)
        client.get("/", **HOST)
        with CaptureQueriesContext(connection) as captured:
            client.get("/", **HOST)
        found.append(len(captured))
    assert found[0] == found[1]


def post(client, data, **extra):
    return client.post("/acquiescer/", {"day": "2026-11-25", **data}, follow=True, **HOST, **extra)


def acknowledged() -> list[tuple[str, int]]:
    return sorted(Acknowledgment.objects.values_list("consigne__contract__contract_id", "version__number"))


def messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_ticked_contracts_are_acknowledged_and_the_page_says_so(client, page):
    page(6)
    before = acknowledged()
    response = post(
        client, {"scope": "selection", "ack": ["AGG00000:1", "AGG00002:2"], "retour": "filtre=a-acquiescer"}
    )
    assert response.redirect_chain[-1][0] == "/?filtre=a-acquiescer"
    assert sorted(set(acknowledged()) - set(before)) == [("AGG00000", 1), ("AGG00002", 2)]
    assert messages(response) == ["Acquiescements enregistrés pour 2 contrats : AGG00000, AGG00002."]
    ack = Acknowledgment.objects.get(consigne__contract__contract_id="AGG00000")
    assert (ack.channel, ack.actor, ack.ip) == ("portal", "agg6@example.fr", "127.0.0.1")


def test_every_contract_of_the_page_in_one_click_without_script(client, page):
    html = page(12)
    carried = re.search(r'name="acks" value="([^"]*)"', html).group(1)
    assert sorted(carried.split()) == sorted(boxes(html))
    response = post(client, {"scope": "page", "acks": carried, "ack": ["AGG00000:1"]})
    assert len(acknowledged()) == 4 + 2 + 6  # the done ones, the voided ones' first versions, and these six
    assert messages(response)[0].startswith("Acquiescements enregistrés pour 6 contrats")


def test_a_version_changed_meanwhile_is_refused_for_that_contract_only(client, page):
    page(6)
    with clock(NOW + timedelta(minutes=1)):
        modify(
            [ConsigneDocument("AGG00000", TOMORROW, stop_periods(TOMORROW, "13:00", "18:00"))], reason="x", actor="t"
        )
    response = post(client, {"ack": ["AGG00000:1", "AGG00004:1", "AGG00001:1"]})
    assert ("AGG00004", 1) in acknowledged() and ("AGG00000", 1) not in acknowledged()
    shown = messages(response)
    assert shown[0] == "Acquiescement enregistré pour 1 contrat : AGG00004."
    assert shown[1] == "1 contrat était déjà acquiescé dans la version affichée : AGG00001."
    assert shown[2].startswith("Refusé pour 1 contrat (AGG00000) : la version 1 n'est plus la version en vigueur")
    assert acknowledged().count(("AGG00001", 1)) == 1  # not acknowledged twice


def test_after_hlar_every_acknowledgment_is_refused_with_one_reason(client, page, settings):
    page(6)
    settings.SMARTOA_NOW = paris("2026-11-24", "16:30")
    response = post(client, {"ack": ["AGG00000:1", "AGG00004:1"]})
    assert acknowledged() == [("AGG00001", 1), ("AGG00002", 1), ("AGG00005", 1)]
    (line,) = messages(response)
    assert line.startswith("Refusé pour 2 contrats (AGG00000, AGG00004) : les acquiescements du ")
    assert "sont fermés depuis l'HLAR" in line


def test_a_contract_not_held_answers_404_and_nothing_is_acknowledged(client, page):
    page(6)
    before = acknowledged()
    for entry in ("OTHER00001:1", "NOPE1234:1", "bad id:1"):
        response = client.post("/acquiescer/", {"day": "2026-11-25", "ack": ["AGG00000:1", entry]}, **HOST)
        assert response.status_code == 404, entry
    assert acknowledged() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Cochez au moins un contrat à acquiescer."),
        ({"scope": "page", "acks": ""}, "Cochez au moins un contrat à acquiescer."),
        ({"ack": ["AGG00000"]}, "Sélection invalide : rechargez la page et recommencez."),
        ({"ack": ["AGG00000:v1"]}, "Sélection invalide : rechargez la page et recommencez."),
        ({"day": "demain", "ack": ["AGG00000:1"]}, "Sélection invalide : rechargez la page et recommencez."),
    ],
)
def test_malformed_or_empty_selections(client, page, data, message):
    page(6)
    before = acknowledged()
    assert messages(post(client, data)) == [message]
    assert acknowledged() == before


def test_the_return_address_keeps_only_the_listing(client, page):
    page(6)
    response = post(client, {"ack": ["AGG00000:1"], "retour": "q=AGG&evil=https://x.example&tri=nom"})
    assert response.redirect_chain[-1][0] == "/?q=AGG&tri=nom"


def test_every_contract_of_a_filter_after_a_review(client, page):
    html = page(60)
    text = re.sub(r"\s+", " ", html)
    assert "Acquiescer les 30 contrats à acquiescer…" in text
    review = page(60, "/acquiescer/tout/?filtre=a-acquiescer&tri=id")
    assert "Acquiescer ces 30 contrats" in review and "Voir les 30 contrats et leur version" in review
    carried = re.search(r'name="acks" value="([^"]*)"', review).group(1).split()
    assert len(carried) == 30 and "AGG00002:2" in carried and "AGG00000:1" in carried
    assert re.search(r"Arrêt 12:55–18:00</td><td[^>]*>10</td>", review)  # the voided ones, grouped
    response = post(client, {"scope": "all", "acks": " ".join(carried), "retour": "filtre=a-acquiescer&tri=id"})
    first_ten = ", ".join(contract_id(n) for n in range(0, 20, 2))
    assert messages(response) == [f"Acquiescements enregistrés pour 30 contrats : {first_ten} et 20 autres."]
    assert "Aucun contrat ne correspond" in page(60, "/?filtre=a-acquiescer")
    assert "Aucun contrat de ce filtre n'est à acquiescer maintenant." in page(60, "/acquiescer/tout/")


def test_the_next_step_of_each_contract_links_to_its_api_access(page, settings):
    html = page(6)
    assert '<a class="next-step" href="/contrats/AGG00000/acces/">Générez un jeton' in html
    assert "Prêt pour l'API" in html  # AGG00004: a token (the test environment needs no address)
    settings.PRODUCTION = True  # in production an address is needed first
    html = page(6)
    assert '<a class="next-step" href="/contrats/AGG00000/acces/">Déclarez une adresse IP' in html
    assert '<a class="next-step" href="/contrats/AGG00005/acces/">Déclarez une adresse IP' in html


def test_an_account_without_contracts(client, settings, db):
    from smartoa.accounts.services import create_account

    settings.SMARTOA_NOW = NOW
    signed_in(client, create_account("empty@example.fr", actor="test"))
    html = client.get("/", **HOST).content.decode()
    assert "Aucun contrat n'est rattaché à votre compte" in html and "<table" not in html
