"""Contracts and accounts in the back office: the list (search, eligibility with the reason, accounts, token
expiry), the bulk import with its dry run (nothing written) then the real import (all or nothing, logins
e-mailed), account creation, the Gestionnaire change and the reset of a lost authenticator — each through the
same service, checks and audit as the command line and the admin."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from smartoa.accounts.models import Role, User
from smartoa.accounts.roles import LECTURE, role_of
from smartoa.audit.models import AuditEvent
from smartoa.contracts.importing import import_contracts, parse_contracts_csv
from smartoa.contracts.models import AllowedIP, ApiToken, Contract
from tests.factories import PUBLIC_IP, make_token, paris, signed_in

HEADER = "contract_id,name,sector,installed_power,power_unit,holder_email,manager_email,network_id\n"
NOW = paris("2026-11-24", "10:00")


def csv_file(*lines: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("contrats.csv", (HEADER + "".join(lines)).encode(), content_type="text/csv")


def onboard(*lines: str) -> None:
    with transaction.atomic():
        import_contracts(parse_contracts_csv(HEADER + "".join(lines)), actor="test")


@pytest.fixture
def portfolio(db, settings):
    settings.SMARTOA_NOW = NOW
    onboard(
        "BOA00001,Centrale de Beauce,pv,15,MWc,holder@example.fr,manager@example.fr,30001234567890\n",
        "BOA00002,Parc des Crêtes,wind_onshore,8,MW,holder@example.fr,,\n",
    )
    make_token(Contract.objects.get(contract_id="BOA00001"))
    return {c.contract_id: c for c in Contract.objects.all()}


# --- the list and a contract's page -------------------------------------------------------------------------


def test_list_shows_eligibility_accounts_and_token(operator, portfolio):
    html = operator.get("/backoffice/contracts/").content.decode()
    assert "2 contrats — éligibilité au 25/11/2026" in html
    assert "8 MW est sous le seuil de 10" in html  # BOA00002, with the reason
    assert "holder@example.fr" in html and "manager@example.fr" in html and "Gestionnaire" in html
    assert "expire le 26/05/2027" in html or "expire le 25/05/2027" in html
    assert "aucun actif" in html  # BOA00002 has no token


@pytest.mark.parametrize(
    ("query", "found", "missing"),
    [
        ({"q": "beauce"}, "BOA00001", "BOA00002"),
        ({"q": "manager@"}, "BOA00001", "BOA00002"),
        ({"q": "00002"}, "BOA00002", "BOA00001"),
        ({"eligible": "no"}, "BOA00002", "BOA00001"),
        ({"eligible": "yes"}, "BOA00001", "BOA00002"),
    ],
)
def test_search_and_eligibility_filter(operator, portfolio, query, found, missing):
    html = operator.get("/backoffice/contracts/", query).content.decode()
    table = html[html.index("<tbody>") :]
    assert found in table and missing not in table


def test_contract_page(operator, portfolio):
    AllowedIP.objects.create(contract=portfolio["BOA00001"], address=PUBLIC_IP)
    html = operator.get("/backoffice/contracts/BOA00001/").content.decode()
    assert "Centrale de Beauce" in html and PUBLIC_IP in html and "30001234567890" in html
    assert "/backoffice/contracts/BOA00001/curve/" in html and "?contract=BOA00001" in html
    assert operator.get("/backoffice/contracts/BOANOPE/").status_code == 404
    assert operator.get("/backoffice/contracts/not-an-id/").status_code == 404


def test_contract_page_shows_the_webhook_and_its_deliveries(operator, portfolio, settings):
    from smartoa.notifications.senders import memory
    from smartoa.notifications.services import send_test, set_webhook
    from tests.factories import deliver_outbox

    contract = portfolio["BOA00001"]
    html = operator.get("/backoffice/contracts/BOA00001/").content.decode()
    assert "Aucun webhook" in html and "Aucun envoi pour l'instant." in html
    settings.SMARTOA_NOTIFICATION_SENDER = "memory"
    memory.failing = lambda message: "HTTP 503"
    with transaction.atomic():
        set_webhook(contract, "https://hooks.example.fr/smartoa", actor="holder@example.fr")
        send_test(contract, actor="holder@example.fr")
    deliver_outbox()
    html = operator.get("/backoffice/contracts/BOA00001/").content.decode()
    assert "https://hooks.example.fr/smartoa" in html and "Aucun webhook" not in html
    assert "<code>test</code>" in html and "HTTP 503" in html and "en attente" in html  # retried later


# --- the Gestionnaire change ------------------------------------------------------------------------------


def test_manager_change_cuts_the_old_manager_off(operator, portfolio, emails):
    contract = portfolio["BOA00001"]
    AllowedIP.objects.create(contract=contract, address=PUBLIC_IP)
    response = operator.post(
        "/backoffice/contracts/BOA00001/", {"email": "nouveau@example.fr", "confirm": "on"}, follow=True
    )
    html = response.content.decode()
    assert "nouveau@example.fr est le gestionnaire de BOA00001" in html and "Le compte a été créé" in html
    assert Role.objects.get(contract=contract, kind="manager").user.email == "nouveau@example.fr"
    assert not Role.objects.filter(contract=contract, user__email="manager@example.fr").exists()
    assert not ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).exists()
    assert not AllowedIP.objects.filter(contract=contract).exists()
    assert emails("holder@example.fr") and emails("nouveau@example.fr")
    changed = AuditEvent.objects.get(action="manager.changed")
    assert (changed.actor, changed.ip, changed.details["old"]) == ("ops@example.org", "127.0.0.1", "manager@example.fr")


def test_manager_change_end_to_end_old_token_and_old_manager_cut_off_at_once(operator, portfolio, emails, wsgi):
    """The old manager's machine (real WSGI entry, hot path included) and browser session both lose the contract
    on their next request."""
    from django.test import Client

    from tests.factories import publish_day

    contract = portfolio["BOA00001"]
    publish_day(contract, date(2026, 11, 25))
    token = make_token(contract)
    bearer = {"Authorization": f"Bearer {token}"}
    old_manager = Client()
    signed_in(old_manager, User.objects.get(email="manager@example.fr"))
    assert wsgi("GET", "/api/v1/effacement", headers=bearer).status == 200
    assert old_manager.get("/contrats/BOA00001/").status_code == 200
    assert "BOA00001" in old_manager.get("/").content.decode()

    operator.post("/backoffice/contracts/BOA00001/", {"email": "nouveau@example.fr", "confirm": "on"})

    refused = wsgi("GET", "/api/v1/effacement", headers=bearer)
    assert refused.status == 401 and refused.json()["error"] == "revoked_token"
    assert old_manager.get("/contrats/BOA00001/").status_code == 404
    assert old_manager.get("/contrats/BOA00001/acces/").status_code == 404
    assert "BOA00001" not in old_manager.get("/").content.decode()
    told = emails("holder@example.fr")[-1]
    assert "nouveau@example.fr" in told and "BOA00001" in told


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "manager@example.fr", "confirm": "on"}, "manager@example.fr est déjà le gestionnaire."),
        ({"email": "nouveau@example.fr"}, "Ce champ est obligatoire"),
        ({"email": "pas-une-adresse", "confirm": "on"}, "Saisissez une adresse de courriel valide"),
    ],
)
def test_manager_change_refusals_change_nothing(operator, portfolio, data, message):
    response = operator.post("/backoffice/contracts/BOA00001/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1
    assert not AuditEvent.objects.filter(action__in=["manager.changed", "role.revoked"]).exists()


# --- the bulk import --------------------------------------------------------------------------------------


def dry_run(client, *lines):
    response = client.post("/backoffice/contracts/import/", {"file": csv_file(*lines)})
    assert response.status_code == 302, response.content.decode()
    return client.get(response["Location"])


def test_dry_run_then_import(operator, portfolio, emails):
    before = AuditEvent.objects.count()
    last = AuditEvent.objects.order_by("pk").last().pk
    preview = dry_run(
        operator,
        "BOA00001,Centrale de Beauce,pv,16,MWc,holder@example.fr,autre@example.fr,30001234567890\n",
        "BOA00002,Parc des Crêtes,wind_onshore,8,MW,holder@example.fr,,\n",
        "BOA00003,Toits de Lyon,pv,13,MWc,lyon@example.fr,,\n",
    )
    html = preview.content.decode()
    assert (
        "Le fichier est valide (3 lignes). Rien n&#x27;a encore été écrit." in html
        or "Rien n'a encore été écrit" in html
    )
    assert "1 contrat créé" in html and "BOA00003" in html
    assert "2 contrats mis à jour" in html and "BOA00001 — change : puissance installée" in html and "inchangé" in html
    assert "2 comptes créés" in html and "lyon@example.fr" in html and "autre@example.fr" in html
    assert "1 gestionnaire remplacé" in html and "manager@example.fr → autre@example.fr" in html
    assert AuditEvent.objects.count() == before and Contract.objects.count() == 2  # nothing written
    assert not User.objects.filter(email="lyon@example.fr").exists()
    data = {"file": preview.context["digest"], "fingerprint": preview.context["plan"].fingerprint()}
    response = operator.post("/backoffice/contracts/import/confirm/", data, follow=True)
    assert "Contrats créés : 1 ; mis à jour : 2. Comptes créés : 2" in response.content.decode()
    assert Contract.objects.get(contract_id="BOA00001").installed_power == 16
    assert emails("lyon@example.fr") and emails("autre@example.fr")
    imported = AuditEvent.objects.filter(action="contract.imported")
    assert imported.count() == 5 and {(e.actor, e.ip) for e in imported.filter(pk__gt=last)} == {
        ("ops@example.org", "127.0.0.1")
    }
    again = operator.post("/backoffice/contracts/import/confirm/", data, follow=True)  # the kept file is gone
    assert "Cet aperçu a expiré" in again.content.decode()


def test_a_bad_file_lists_every_bad_line_and_writes_nothing(operator, portfolio):
    response = operator.post(
        "/backoffice/contracts/import/",
        {
            "file": csv_file(
                "BOA00003,Toits de Lyon,pv,13,MWc,lyon@example.fr,,\n",
                "boa4,Parc,pv,12,MWc,x@example.fr,,\n",
                "BOA00005,Parc,hydro,-1,kW,pas-une-adresse,,\n",
            )
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    # In French, every problem on its own line, each naming its line (the first line of the file is fine).
    assert (
        "Le fichier n&#x27;a pas été importé :\n"
        "ligne 3 : contract_id &#x27;boa4&#x27; doit compter 3 à 32 lettres majuscules et chiffres\n"
        "ligne 4 : sector &#x27;hydro&#x27; n&#x27;est pas l&#x27;une des filières pv, wind_onshore, wind_offshore\n"
        "ligne 4 : power_unit &#x27;kW&#x27; n&#x27;est ni MW ni MWc\n"
        "ligne 4 : installed_power -1 doit être positive\n"
        "ligne 4 : holder_email : &#x27;pas-une-adresse&#x27; n&#x27;est pas une adresse e-mail</p>"
    ) in html
    assert "ligne 2" not in html and Contract.objects.count() == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,sector\nx,pv\n", "Colonnes manquantes : contract_id"),
        (HEADER.encode(), "Le fichier ne contient aucune ligne de contrat"),
        (b"\xff\xfe", "encodé en UTF-8"),
    ],
)
def test_unusable_files(operator, portfolio, content, message):
    response = operator.post("/backoffice/contracts/import/", {"file": SimpleUploadedFile("c.csv", content)})
    assert response.status_code == 400 and message in response.content.decode()


def test_the_import_is_refused_when_the_data_changed_since_the_dry_run(operator, portfolio):
    preview = dry_run(operator, "BOA00003,Toits de Lyon,pv,13,MWc,lyon@example.fr,,\n")
    data = {"file": preview.context["digest"], "fingerprint": preview.context["plan"].fingerprint()}
    onboard("BOA00009,Autre,pv,20,MWc,lyon@example.fr,,\n")  # the account now exists
    response = operator.post("/backoffice/contracts/import/confirm/", data)
    assert response.status_code == 400 and "Les données ont changé depuis" in response.content.decode()
    assert "0 comptes créés" in response.content.decode() or "0 compte créé" in response.content.decode()
    assert not Contract.objects.filter(contract_id="BOA00003").exists()


# --- accounts ---------------------------------------------------------------------------------------------


def test_create_an_account(operator, db, emails):
    response = operator.post(
        "/backoffice/accounts/new/", {"email": "Nouvel@Example.fr", "full_name": "Nouvel Opérateur", "role": "lecture"}
    )
    assert response.status_code == 302
    user = User.objects.get(email="nouvel@example.fr")
    assert user.is_staff and user.must_change_password and user.full_name == "Nouvel Opérateur"
    assert role_of(user) == LECTURE
    assert emails("nouvel@example.fr")
    event = AuditEvent.objects.get(action="account.created")
    assert (event.actor, event.ip, event.user_id) == ("ops@example.org", "127.0.0.1", user.pk)
    assert event.details == {"staff": True, "role": "lecture"}
    again = operator.post("/backoffice/accounts/new/", {"email": "nouvel@example.fr"})
    assert again.status_code == 400 and "Un compte existe déjà pour nouvel@example.fr" in again.content.decode()


def test_accounts_list(operator, portfolio):
    html = operator.get("/backoffice/accounts/", {"q": "holder"}).content.decode()
    table = html[html.index("<tbody>") :]
    assert "holder@example.fr" in table and "manager@example.fr" not in table
    assert "BOA00001" in table and "BOA00002" in table and "première connexion à faire" in table


def test_reset_a_lost_authenticator(operator, portfolio, emails):
    user = User.objects.get(email="holder@example.fr")
    signed_in(operator.__class__(), user)  # enrols a device
    assert TOTPDevice.objects.filter(user=user).exists()
    url = f"/backoffice/accounts/{user.pk}/reset-totp/"
    assert "holder@example.fr" in operator.get(url).content.decode()
    refused = operator.post(url, {})
    assert refused.status_code == 400 and TOTPDevice.objects.filter(user=user).exists()
    response = operator.post(url, {"confirm": "on"}, follow=True)
    assert "Double authentification de holder@example.fr réinitialisée" in response.content.decode()
    user.refresh_from_db()
    assert not TOTPDevice.objects.filter(user=user).exists() and user.must_change_password
    assert emails("holder@example.fr")
    event = AuditEvent.objects.get(action="totp.reset")
    assert (event.actor, event.ip, event.user_id) == ("ops@example.org", "127.0.0.1", user.pk)
    assert operator.get("/backoffice/accounts/999999/reset-totp/").status_code == 404


def test_reset_of_a_deactivated_account_is_refused(operator, portfolio):
    user = User.objects.get(email="holder@example.fr")
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = operator.post(f"/backoffice/accounts/{user.pk}/reset-totp/", {"confirm": "on"})
    assert response.status_code == 400 and "est désactivé : réactivez-le" in response.content.decode()
    assert not AuditEvent.objects.filter(action="totp.reset").exists()


def test_day_is_tomorrow(operator, portfolio):
    assert operator.get("/backoffice/contracts/").context["day"] == date(2026, 11, 25)
