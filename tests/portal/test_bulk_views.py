"""The API access of several contracts in the portal (Django's test client): the page and its filters, one address
added to or removed from the selected contracts (or a whole filter) with a summary, new tokens after a confirmation,
shown once with their CSV embedded in the page and never cached; refusals shown next to their field with the
selection kept; a contract not held answers 404 with nothing changed; CSRF on every form. And the next steps on a
contract's API access page, and the token pages naming their contract."""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest
from django.test import Client

from smartoa.audit.models import AuditEvent
from smartoa.contracts.models import AllowedIP, ApiToken
from smartoa.contracts.tokens import hash_token
from tests.factories import PUBLIC_IP, PUBLIC_IP_2, signed_in
from tests.portal.aggregator import NOW, contract_id, make_aggregator

HOST = {"HTTP_HOST": "localhost"}


@pytest.fixture
def agg(client, settings, db):
    """An aggregator holding AGG00000–AGG00011 (AGG00004 and AGG00010 allow PUBLIC_IP; those and AGG00005,
    AGG00011 have a token), signed in on ``client``."""
    settings.SMARTOA_NOW = NOW
    user = make_aggregator(12)
    signed_in(client, user)
    return user


def allowed() -> set[tuple[str, str]]:
    return set(AllowedIP.objects.values_list("contract__contract_id", "address"))


def tokens() -> set:
    return set(ApiToken.objects.values_list("contract__contract_id", "token_hash", "revoked_at"))


def messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_page_lists_addresses_tokens_and_next_steps(client, agg):
    html = client.get("/acces-api/", **HOST).content.decode()
    assert re.findall(r'name="contract" value="(\w+)"', html) == [contract_id(n) for n in range(12)]
    assert f"<code>{PUBLIC_IP}</code>" in html and "Jeton valable jusqu&#x27;au 26/05/2027" in html
    assert '<a class="next-step" href="/contrats/AGG00000/acces/">Générez un jeton' in html
    no_address = client.get("/acces-api/?filtre=sans-adresse", **HOST).content.decode()
    assert len(re.findall(r'name="contract" value="(\w+)"', no_address)) == 10
    assert "Appliquer aux 10 contrats de ce filtre (toutes les pages), cochés ou non" in no_address
    assert "OTHER00001" not in html


def test_an_address_added_to_the_ticked_contracts(client, agg):
    data = {"action": "add", "address": PUBLIC_IP, "contract": ["AGG00000", "AGG00004", "AGG00001"], "tri": "nom"}
    response = client.post("/acces-api/adresse/", data, follow=True, **HOST)
    assert response.redirect_chain[-1][0] == "/acces-api/?tri=nom"
    assert messages(response) == [
        f"Adresse {PUBLIC_IP} ajoutée à 2 contrats.",
        "Elle était déjà déclarée sur 1 contrat : AGG00004.",
    ]
    assert {("AGG00000", PUBLIC_IP), ("AGG00001", PUBLIC_IP)} <= allowed()
    events = AuditEvent.objects.filter(action="ip.added", actor="aggregator@example.fr")
    assert sorted((e.contract.contract_id, e.ip) for e in events) == [
        ("AGG00000", "127.0.0.1"),
        ("AGG00001", "127.0.0.1"),
    ]


def test_an_address_added_to_every_contract_of_a_filter(client, agg):
    data = {"action": "add", "address": PUBLIC_IP_2, "scope": "filter", "filtre": "sans-adresse", "contract": []}
    response = client.post("/acces-api/adresse/", data, follow=True, **HOST)
    assert messages(response) == [f"Adresse {PUBLIC_IP_2} ajoutée à 10 contrats."]
    assert len([a for a in allowed() if a[1] == PUBLIC_IP_2]) == 10
    assert response.redirect_chain[-1][0] == "/acces-api/?filtre=sans-adresse"
    assert "Aucun contrat ne correspond" in response.content.decode()  # none left without an address


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("10.0.0.7", "privée ou réservée"),
        ("80.12.34.0/24", "plages ne sont pas acceptées"),
        ("scada.example.fr", "noms d&#x27;hôte"),
        ("", "Aucune adresse IP"),
    ],
)
def test_a_bad_address_is_refused_next_to_its_field_with_the_selection_kept(client, agg, address, message):
    before = allowed()
    data = {"action": "add", "address": address, "contract": ["AGG00000", "AGG00003"], "filtre": "sans-jeton"}
    response = client.post("/acces-api/adresse/", data, **HOST)
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(r'<p class="error" id="bulk-address-error">(.*?)</p>', html).group(1)
    assert message in error.lower() or message in error
    assert 'value="AGG00000" id="pick-AGG00000" data-selectable checked' in html
    assert 'value="AGG00001" id="pick-AGG00001" data-selectable>' in html
    assert f'name="address" value="{address}"' in html and 'aria-invalid="true"' in html
    assert allowed() == before


def test_an_empty_selection_is_refused(client, agg):
    response = client.post("/acces-api/adresse/", {"action": "add", "address": PUBLIC_IP_2}, **HOST)
    assert response.status_code == 400
    assert 'class="alert error" id="selection-error">aucun contrat sélectionné' in response.content.decode().lower()
    response = client.post("/acces-api/jetons/", {}, **HOST)
    assert response.status_code == 400 and "selection-error" in response.content.decode()


def test_an_address_removed_after_a_confirmation(client, agg):
    data = {"action": "remove", "address": PUBLIC_IP, "contract": ["AGG00004", "AGG00000"], "q": "AGG"}
    confirm = client.post("/acces-api/adresse/", data, **HOST)
    html = confirm.content.decode()
    assert confirm.status_code == 200 and allowed() == {("AGG00004", PUBLIC_IP), ("AGG00010", PUBLIC_IP)}
    assert "perdra immédiatement l&#x27;accès aux consignes de ce contrat" in html or "perdra immédiatement" in html
    assert "Elle n&#x27;est pas déclarée sur 1 autre contrat" in html or "pas déclarée sur 1 autre contrat" in html
    assert 'name="contracts" value="AGG00000 AGG00004"' in html
    response = client.post(
        "/acces-api/adresse/",
        {"action": "remove", "address": PUBLIC_IP, "contracts": "AGG00000 AGG00004", "confirm": "1", "q": "AGG"},
        follow=True,
        **HOST,
    )
    assert allowed() == {("AGG00010", PUBLIC_IP)}
    assert messages(response) == [
        f"Adresse {PUBLIC_IP} retirée de 1 contrat : ses appels depuis cette adresse sont refusés.",
        "Elle n'était pas déclarée sur 1 contrat : AGG00000.",
    ]
    assert response.redirect_chain[-1][0] == "/acces-api/?q=AGG"


def test_tokens_generated_after_a_confirmation_shown_once_with_their_csv(client, agg):
    old = ApiToken.objects.get(contract__contract_id="AGG00005", revoked_at__isnull=True)
    before = tokens()
    confirm = client.post("/acces-api/jetons/", {"contract": ["AGG00005", "AGG00000", "AGG00001"]}, **HOST)
    html = re.sub(r"\s+", " ", confirm.content.decode())
    assert "Générer un nouveau jeton API pour 3 contrats" in html and "Générer les 3 jetons" in html
    assert "1 de ces contrats a un jeton actif : il cessera de fonctionner immédiatement" in html
    assert tokens() == before  # nothing yet
    response = client.post("/acces-api/jetons/", {"contracts": "AGG00000 AGG00001 AGG00005", "confirm": "1"}, **HOST)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download="jetons-api-smartoa.csv"', page)
    rows = list(csv.reader(io.StringIO(base64.b64decode(href.group(1)).decode())))
    assert rows[0] == ["contract_id", "token", "expires_at"]
    assert [r[0] for r in rows[1:]] == ["AGG00000", "AGG00001", "AGG00005"]
    active = dict(ApiToken.objects.filter(revoked_at__isnull=True).values_list("contract__contract_id", "token_hash"))
    for cid, plain, expires in rows[1:]:
        assert active[cid] == hash_token(plain) and f">{plain}</code>" in page  # shown on the page too
        assert expires == "2027-05-26T11:00:00+02:00"  # 183 days after 24/11 10:00 (winter)
    old.refresh_from_db()
    assert old.revoked_at == NOW  # the replaced token stops at once
    assert plain not in str(client.session.items())  # never kept server-side


def test_tokens_of_a_whole_filter(client, agg):
    confirm = client.post("/acces-api/jetons/", {"scope": "filter", "filtre": "sans-jeton"}, **HOST)
    carried = re.search(r'name="contracts" value="([^"]*)"', confirm.content.decode()).group(1).split()
    assert len(carried) == 8
    response = client.post("/acces-api/jetons/", {"contracts": " ".join(carried), "confirm": "1"}, **HOST)
    assert response.content.decode().count('<code class="token"') == 8
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 12


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/acces-api/adresse/", {"action": "add", "address": PUBLIC_IP_2, "contract": ["AGG00000", "OTHER00001"]}),
        ("/acces-api/adresse/", {"action": "remove", "address": PUBLIC_IP, "contract": ["AGG00004", "OTHER00001"]}),
        (
            "/acces-api/adresse/",
            {"action": "remove", "address": PUBLIC_IP, "contracts": "AGG00004 NOPE0001", "confirm": "1"},
        ),
        ("/acces-api/jetons/", {"contract": ["AGG00000", "OTHER00001"]}),
        ("/acces-api/jetons/", {"contracts": "AGG00000 OTHER00001", "confirm": "1"}),
        ("/acces-api/jetons/", {"contracts": "AGG00000 <script>", "confirm": "1"}),
    ],
)
def test_a_contract_not_held_answers_404_and_nothing_changes(client, agg, url, data):
    before = (allowed(), tokens(), AuditEvent.objects.count())
    assert client.post(url, data, **HOST).status_code == 404
    assert (allowed(), tokens(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/acces-api/adresse/", {"action": "add", "address": PUBLIC_IP_2, "contract": ["AGG00000"]}),
        ("/acces-api/jetons/", {"contracts": "AGG00000", "confirm": "1"}),
        ("/acquiescer/", {"day": "2026-11-25", "ack": ["AGG00000:1"]}),
    ],
)
def test_every_form_needs_its_csrf_token(agg, url, data):
    strict = Client(enforce_csrf_checks=True)
    signed_in(strict, agg)
    before = (allowed(), tokens(), AuditEvent.objects.count())
    assert strict.post(url, data, **HOST).status_code == 403
    assert (allowed(), tokens(), AuditEvent.objects.count()) == before


def test_the_bulk_pages_need_a_signed_in_account(db):
    for url in ("/acces-api/", "/acquiescer/tout/"):
        response = Client().get(url, **HOST)
        assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_the_contract_access_page_says_the_next_steps(client, agg, settings):
    settings.BASE_URL = "https://smartoa.example.fr"
    html = re.sub(r"\s+", " ", client.get("/contrats/AGG00000/acces/", **HOST).content.decode())
    assert "Mise en route de l&#x27;API" in html or "Mise en route de l'API" in html
    assert "Pas encore prêt" in html and "Facultatif dans cet environnement de test" in html
    assert (
        '<code id="curl-example">curl -H "Authorization: Bearer &lt;VOTRE_JETON&gt;" '
        "https://smartoa.example.fr/api/v1/effacement</code>" in html
    )
    assert '<button type="button" class="copy" data-copy-target="curl-example">' in html
    ready = re.sub(r"\s+", " ", client.get("/contrats/AGG00004/acces/", **HOST).content.decode())
    assert '<span class="badge done">Prêt</span>' in ready and "Fait : 1 adresse déclarée." in ready
    assert "Fait : jeton <code>" in ready
    settings.PRODUCTION = True
    html = re.sub(r"\s+", " ", client.get("/contrats/AGG00000/acces/", **HOST).content.decode())
    assert "À faire : l&#x27;API refuse les appels venant d&#x27;une adresse non déclarée." in html or (
        "À faire : l'API refuse les appels venant d'une adresse non déclarée." in html
    )


@pytest.mark.parametrize("path", ["jeton/", "jeton/revoquer/"])
def test_the_token_pages_name_their_contract(client, agg, path):
    html = client.get(f"/contrats/AGG00001/{path}", **HOST).content.decode()
    assert "<title>AGG00001 · " in html
    assert re.search(r"<h1>[^<]*AGG00001 \(Parc éolien 001\)", html)


def test_the_token_shown_page_names_its_contract(client, agg):
    response = client.post("/contrats/AGG00001/jeton/", **HOST)
    html = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert "<title>AGG00001 · " in html and "Votre nouveau jeton API pour AGG00001 (Parc éolien 001)" in html
