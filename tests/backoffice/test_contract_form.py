"""One contract in a form: created or edited with the contracts file's checks and write (same audit, accounts
created and e-mailed), invalid fields refused in French with nothing changed, a manager change confirmed first;
deactivation says what happens, then revokes the token and clears the addresses (audited); reactivation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from smartoa.accounts.models import Role, User
from smartoa.audit.models import AuditEvent
from smartoa.contracts.importing import check_contract
from smartoa.contracts.models import AllowedIP, ApiToken, Contract
from smartoa.contracts.services import add_ips
from tests.backoffice.test_contracts_pages import NOW, onboard
from tests.factories import PUBLIC_IP, make_token

FIELDS = {
    "contract_id": "BOA00007",
    "name": "Ferme solaire du Lot",
    "network_id": "30009876543210",
    "sector": "pv",
    "installed_power": "14,5",
    "power_unit": "MWc",
    "holder_email": "Nouveau@Example.fr",
    "manager_email": "",
}


@pytest.fixture
def contract(db, settings):
    settings.SMARTOA_NOW = NOW
    onboard("BOA00001,Centrale de Beauce,pv,15,MWc,holder@example.fr,manager@example.fr,30001234567890\n")
    found = Contract.objects.get(contract_id="BOA00001")
    make_token(found)
    with transaction.atomic():
        add_ips(found, [PUBLIC_IP], actor="test")
    return found


def snapshot():
    return (
        list(Contract.objects.order_by("pk").values()),
        list(Role.objects.order_by("pk").values_list("user__email", "contract_id", "kind")),
        User.objects.count(),
        AuditEvent.objects.count(),
    )


def test_the_check_is_the_files(db):
    row, problems = check_contract({**FIELDS, "installed_power": "1,2345", "sector": "solaire"})
    assert row is None and set(problems) == {"installed_power", "sector"}
    row, problems = check_contract(FIELDS)
    assert problems == {} and row.installed_power == Decimal("14.500") and row.holder_email == "nouveau@example.fr"


def test_a_new_contract_with_a_new_account(operator, contract, emails):
    response = operator.post("/backoffice/contracts/new/", FIELDS)
    assert response.status_code == 302 and response["Location"] == "/backoffice/contracts/BOA00007/"
    created = Contract.objects.get(contract_id="BOA00007")
    assert (created.name, created.installed_power, created.power_unit) == (
        "Ferme solaire du Lot",
        Decimal("14.5"),
        "MWc",
    )
    assert Role.objects.get(contract=created).user.email == "nouveau@example.fr"
    assert emails("nouveau@example.fr")  # the first-connection e-mail, as the import sends it
    event = AuditEvent.objects.get(action="contract.imported", contract=created)
    assert event.actor == "ops@example.org" and event.details["created"] is True
    page = operator.get(response["Location"]).content.decode()
    assert "Contrat BOA00007 créé." in page and "identifiants lui sont envoyés" in page


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"contract_id": "boa-7"}, "doit compter 3 à 32 lettres majuscules et chiffres"),
        ({"installed_power": "-3"}, "doit être positive"),
        ({"installed_power": "douze"}, "n'est pas un nombre"),
        ({"installed_power": "1,2345"}, "plus de 3 décimales"),
        ({"holder_email": "pas-une-adresse"}, "n'est pas une adresse e-mail"),
        ({"manager_email": "x@"}, "n'est pas une adresse e-mail"),
        ({"name": ""}, "Ce champ est obligatoire."),
        ({"sector": "charbon"}, "Sélectionnez un choix valide."),
        ({"contract_id": "BOA00001"}, "Le contrat BOA00001 existe déjà"),
    ],
)
def test_invalid_fields_are_refused_in_french_and_nothing_changes(operator, contract, changes, field_error):
    before = snapshot()
    response = operator.post("/backoffice/contracts/new/", {**FIELDS, **changes})
    page = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 400 and field_error in page, page[page.find('class="error"') :][:400]
    assert snapshot() == before


def test_editing_a_contract_keeps_its_id_and_token(operator, contract):
    page = operator.get("/backoffice/contracts/BOA00001/edit/").content.decode()
    assert (
        'value="Centrale de Beauce"' in page
        and 'value="holder@example.fr"' in page
        and 'name="contract_id"' not in page
    )
    fields = {
        **FIELDS,
        "contract_id": "BOA99999",
        "holder_email": "holder@example.fr",
        "manager_email": "manager@example.fr",
    }
    response = operator.post("/backoffice/contracts/BOA00001/edit/", fields)
    assert response.status_code == 302
    edited = Contract.objects.get(pk=contract.pk)
    assert (edited.contract_id, edited.name, edited.installed_power) == ("BOA00001", "Ferme solaire du Lot", 14.5)
    assert ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).count() == 1
    assert AllowedIP.objects.filter(contract=contract).count() == 1


def test_a_manager_change_is_confirmed_first(operator, contract):
    fields = {**FIELDS, "holder_email": "holder@example.fr", "manager_email": "autre@example.fr"}
    before = snapshot()
    response = operator.post("/backoffice/contracts/BOA00001/edit/", fields)
    page = response.content.decode()
    assert (
        response.status_code == 200 and "Le gestionnaire manager@example.fr sera remplacé par autre@example.fr" in page
    )
    assert 'name="confirm_manager" value="on"' in page
    assert snapshot() == before
    response = operator.post("/backoffice/contracts/BOA00001/edit/", {**fields, "confirm_manager": "on"})
    assert response.status_code == 302
    assert Role.objects.get(contract=contract, kind="manager").user.email == "autre@example.fr"
    assert not ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="manager.changed", contract=contract).count() == 1


def test_unknown_contract_answers_404(operator, contract):
    assert operator.get("/backoffice/contracts/BOA99999/edit/").status_code == 404
    assert operator.get("/backoffice/contracts/BOA99999/active/").status_code == 404


def test_deactivation_says_then_revokes_the_token_and_clears_the_addresses(operator, contract):
    page = operator.get("/backoffice/contracts/BOA00001/active/").content.decode()
    prefix = ApiToken.objects.get(contract=contract).prefix
    assert "Désactiver le contrat BOA00001 ?" in page and f"{prefix}…" in page and PUBLIC_IP in page
    assert "aucune consigne ne lui sera plus publiée" in page
    response = operator.post("/backoffice/contracts/BOA00001/active/", {"active": "0"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert not contract.active
    assert not ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).exists()
    assert not AllowedIP.objects.filter(contract=contract).exists()
    actions = set(AuditEvent.objects.filter(contract=contract).values_list("action", flat=True))
    assert {"contract.deactivated", "token.revoked", "ip.cleared"} <= actions
    assert AuditEvent.objects.get(action="contract.deactivated").actor == "ops@example.org"
    page = operator.get("/backoffice/contracts/BOA00001/active/").content.decode()
    assert "Réactiver le contrat BOA00001 ?" in page and "générez un nouveau jeton" in page
    assert operator.post("/backoffice/contracts/BOA00001/active/", {"active": "1"}).status_code == 302
    contract.refresh_from_db()
    assert contract.active


def test_a_stale_or_bad_deactivation_changes_nothing(operator, contract):
    before = snapshot()
    operator.post("/backoffice/contracts/BOA00001/active/", {"active": "maybe"})
    response = operator.post("/backoffice/contracts/BOA00001/active/", {"active": "1"})  # already active
    assert response.status_code == 302 and snapshot() == before
    assert "Rien n'a changé" in operator.get("/backoffice/contracts/BOA00001/").content.decode().replace("&#x27;", "'")


def test_producers_cannot_edit_or_deactivate(client, contract):
    from tests.factories import signed_in

    signed_in(client, User.objects.get(email="holder@example.fr"))
    before = snapshot()
    assert client.post("/backoffice/contracts/BOA00001/active/", {"active": "0"}).status_code == 403
    assert client.post("/backoffice/contracts/new/", FIELDS).status_code == 403
    assert snapshot() == before


def test_a_deactivated_contract_leaves_the_next_publication(operator, contract):
    from datetime import date

    from smartoa.consignes.generation import plan_generation

    day = date(2026, 11, 25)
    prices = "start,price\n" + "".join(
        f"2026-11-25T{h:02d}:{m:02d}:00+01:00,-1\n" for h in range(24) for m in (0, 15, 30, 45)
    )
    assert [c.contract_id for c in plan_generation(prices, day).contracts] == ["BOA00001"]
    operator.post("/backoffice/contracts/BOA00001/active/", {"active": "0"})
    assert plan_generation(prices, day).contracts == []
