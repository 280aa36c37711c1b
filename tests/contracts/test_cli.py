"""The operator CLI: clear errors, non-zero exits, all-or-nothing writes."""

import json
from datetime import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from smartoa.accounts.models import Role, User
from smartoa.audit.models import AuditEvent
from smartoa.consignes.models import Consigne, ConsigneVersion
from smartoa.contracts.models import AllowedIP, ApiToken, Contract
from smartoa.contracts.tokens import hash_token
from smartoa.domain.calendar import PARIS
from tests.factories import PUBLIC_IP
from tests.subprocess_env import smartoa

HEADER = "contract_id,name,sector,installed_power,power_unit,holder_email,manager_email,network_id\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- contracts import ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_creates_contracts_and_accounts(tmp_path):
    path = write(
        tmp_path,
        "c.csv",
        HEADER + 'BOA00001,Parc A,pv,15,MWc,a@x.fr,g@x.fr,30001\nBOA00002,Parc B,wind_onshore,"12,5",MW,a@x.fr,,\n',
    )
    call_command("contracts", "import", path)
    assert Contract.objects.count() == 2
    assert str(Contract.objects.get(contract_id="BOA00002").installed_power) == "12.500"
    holder = User.objects.get(email="a@x.fr")
    assert holder.must_change_password and holder.has_usable_password()
    assert set(holder.roles.values_list("contract__contract_id", "kind")) == {
        ("BOA00001", "holder"),
        ("BOA00002", "holder"),
    }
    assert Role.objects.get(contract__contract_id="BOA00001", kind="manager").user.email == "g@x.fr"
    assert AuditEvent.objects.filter(action="contract.imported").count() == 2


@pytest.mark.django_db(transaction=True)
def test_accounts_receive_their_login_by_email(tmp_path):
    call_command("contracts", "import", write(tmp_path, "c.csv", HEADER + "BOA00001,Parc A,pv,15,MWc,a@x.fr,,\n"))
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["a@x.fr"]
    assert "a@x.fr" in mail.outbox[0].body and "Mot de passe provisoire" in mail.outbox[0].body
    # The e-mail names the contracts the account opens (its roles were written after it, in the same import) and
    # until when the password works (SMARTOA_PROVISIONAL_PASSWORD_DAYS after its creation).
    assert "Ce compte donne accès au contrat :\n- BOA00001 (Parc A) — Producteur\n" in mail.outbox[0].body
    until = User.objects.get(email="a@x.fr").provisional_until
    assert f"valable jusqu'au {until.astimezone(PARIS):%d/%m/%Y à %H:%M} (heure de Paris)" in mail.outbox[0].body


@pytest.mark.django_db
def test_import_is_all_or_nothing(tmp_path):
    bad = HEADER + (
        "BOA00001,Parc A,pv,15,MWc,a@x.fr,,\n"
        "boa-2,Parc B,hydro,-3,kW,not-an-email,,\n"
        "BOA00001,Parc C,pv,15,MWc,c@x.fr,,\n"
    )
    with pytest.raises(CommandError) as error:
        call_command("contracts", "import", write(tmp_path, "c.csv", bad))
    message = str(error.value)
    assert "\nline 3:" in message and "\nline 4:" in message and "\nline 2:" not in message
    for expected in (
        "contract_id 'boa-2'",
        "sector 'hydro'",
        "power_unit 'kW'",
        "installed_power -3 must be positive",
        "holder_email: 'not-an-email' is not an e-mail address",
        "already on line 2",
    ):
        assert expected in message
    assert Contract.objects.count() == 0 and User.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"), [("contract_id,name\nBOA1,x\n", "missing column"), (HEADER, "no contract")]
)
def test_import_refuses_bad_files(tmp_path, text, message):
    with pytest.raises(CommandError, match=message):
        call_command("contracts", "import", write(tmp_path, "c.csv", text))


@pytest.mark.django_db
def test_import_updates_and_a_new_manager_replaces_the_old_one(tmp_path, issue_token):
    call_command(
        "contracts", "import", write(tmp_path, "a.csv", HEADER + "BOA00001,Parc A,pv,15,MWc,a@x.fr,g1@x.fr,\n")
    )
    contract = Contract.objects.get()
    issue_token(contract)
    call_command("ips", "add", "BOA00001", PUBLIC_IP)
    call_command(
        "contracts", "import", write(tmp_path, "b.csv", HEADER + "BOA00001,Parc A2,pv,16,MWc,a@x.fr,g2@x.fr,\n")
    )
    contract.refresh_from_db()
    assert contract.name == "Parc A2"
    assert Role.objects.get(contract=contract, kind="manager").user.email == "g2@x.fr"
    assert not Role.objects.filter(user__email="g1@x.fr").exists()
    assert not ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).exists()
    assert not AllowedIP.objects.filter(contract=contract).exists()
    assert AuditEvent.objects.filter(action="manager.changed").exists()


# --- tokens and IPs --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_tokens_issue_prints_the_token_alone_on_the_last_line(make_contract):
    contract = make_contract("BOA00001")
    first = smartoa("tokens", "issue", "BOA00001")
    assert first.returncode == 0, first.stderr
    token = first.stdout.strip().splitlines()[-1]
    assert ApiToken.objects.get(contract=contract, revoked_at__isnull=True).token_hash == hash_token(token)
    second = smartoa("tokens", "issue", "BOA00001").stdout.strip().splitlines()[-1]
    assert second != token
    assert ApiToken.objects.get(token_hash=hash_token(token)).revoked_at is not None


@pytest.mark.django_db(transaction=True)
def test_unknown_contract_is_a_clear_error(make_contract):
    result = smartoa("tokens", "issue", "BOANOPE")
    assert result.returncode != 0
    assert "unknown contract 'BOANOPE'" in result.stderr
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_ips_add_and_remove(make_contract):
    contract = make_contract("BOA00001")
    call_command("ips", "add", "BOA00001", PUBLIC_IP, "2A01:E0A:1:2::7", PUBLIC_IP)
    assert set(contract.allowed_ips.values_list("address", flat=True)) == {PUBLIC_IP, "2a01:e0a:1:2::7"}
    call_command("ips", "remove", "BOA00001", "2a01:e0a:1:2:0::7")
    assert list(contract.allowed_ips.values_list("address", flat=True)) == [PUBLIC_IP]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("80.12.34.0/24", "ranges are not allowed"),
        ("api.example.com", "host names are not allowed"),
        ("300.1.1.1", "not an IPv4 or IPv6 address"),
        ("", "no IP address"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address refused, not a bind
        ("::", "unspecified"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.1.10", "private"),
        ("172.16.0.1", "private"),
        ("100.64.0.1", "not a public address"),
        ("fd00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "zone id"),
        ("255.255.255.255", "private or reserved"),
        ("203.0.113.7", "private or reserved"),
        ("2001:db8::1", "private or reserved"),
        ("1" * 100, "not an IP address"),
    ],
)
def test_ips_add_accepts_only_public_addresses_and_adds_nothing_otherwise(make_contract, bad, message):
    make_contract("BOA00001")
    with pytest.raises(CommandError, match=message):
        call_command("ips", "add", "BOA00001", PUBLIC_IP, bad)
    assert AllowedIP.objects.count() == 0


@pytest.mark.django_db
def test_ips_list_and_adding_twice_keeps_one(make_contract, capsys):
    make_contract("BOA00001")
    call_command("ips", "add", "BOA00001", PUBLIC_IP)
    call_command("ips", "add", "BOA00001", PUBLIC_IP, "::ffff:" + PUBLIC_IP)
    out = StringIO()
    call_command("ips", "list", "BOA00001", stdout=out)
    assert out.getvalue().split() == [PUBLIC_IP]


@pytest.mark.django_db
def test_ips_remove_refuses_an_address_not_listed_and_removes_nothing(make_contract):
    make_contract("BOA00001")
    call_command("ips", "add", "BOA00001", PUBLIC_IP)
    with pytest.raises(CommandError, match=r"not on the allowed list: 80.12.34.57"):
        call_command("ips", "remove", "BOA00001", PUBLIC_IP, "80.12.34.57")
    assert AllowedIP.objects.count() == 1


# --- consignes publish -----------------------------------------------------------------------------------

DOC = {
    "id": "BOA00001",
    "application_date": "2026-03-29",
    "data": [
        {"start_date": "2026-03-29T00:00:00+01:00", "end_date": "2026-03-29T11:55:00+02:00", "value": 0.0},
        {"start_date": "2026-03-29T11:55:00+02:00", "end_date": "2026-03-29T18:00:00+02:00", "value": 1.0},
        {"start_date": "2026-03-29T18:00:00+02:00", "end_date": "2026-03-30T00:00:00+02:00", "value": 0.0},
    ],
}


BEFORE_CUTOFF = "2026-03-27T12:00:00+01:00"  # of DOC's day (the deadline itself: tests/consignes/test_doors.py)


@pytest.fixture
def before_cutoff(settings):
    settings.SMARTOA_NOW = datetime.fromisoformat(BEFORE_CUTOFF)


@pytest.mark.django_db
def test_publish_a_list_on_a_dst_day(make_contract, tmp_path, before_cutoff):
    make_contract("BOA00001")
    make_contract("BOA00002")
    other = dict(DOC, id="BOA00002")
    call_command("consignes", "publish", write(tmp_path, "p.json", json.dumps([DOC, other])))
    assert ConsigneVersion.objects.filter(number=1, delivery_day="2026-03-29").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(id="BOAUNKNOWN"), "unknown contract 'BOAUNKNOWN'"),
        (lambda d: d["data"][1].update(value=2.0), "value 2.0 is not allowed"),
        (lambda d: d["data"][1].update(start_date="2026-03-29T12:00:00+02:00"), "gap before period 2"),
        (lambda d: d["data"][1].update(start_date="2026-03-29T11:50:00+02:00"), "overlaps"),
        (lambda d: d["data"][2].update(start_date="2026-03-29T18:00:00+01:00"), "wrong offset"),
        (lambda d: d["data"][2].update(end_date="2026-03-30T01:00:00+02:00"), "lasts 23 hours"),
    ],
)
def test_publish_refuses_bad_documents_and_stores_nothing(make_contract, tmp_path, mutate, message):
    make_contract("BOA00001")
    make_contract("BOA00002")
    good = dict(DOC, id="BOA00002")
    bad = json.loads(json.dumps(DOC))
    mutate(bad)
    with pytest.raises(CommandError, match=message):
        call_command("consignes", "publish", write(tmp_path, "p.json", json.dumps([good, bad])))
    assert Consigne.objects.count() == 0 and ConsigneVersion.objects.count() == 0


@pytest.mark.django_db
def test_publish_refuses_a_day_already_published(make_contract, tmp_path, before_cutoff):
    make_contract("BOA00001")
    path = write(tmp_path, "p.json", json.dumps(DOC))
    call_command("consignes", "publish", path)
    with pytest.raises(CommandError, match="already published"):
        call_command("consignes", "publish", path)
    assert ConsigneVersion.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "message"), [("{", "not valid JSON"), ("[]", "no consigne"), ("[1]", "JSON object")])
def test_publish_refuses_garbage(make_contract, tmp_path, text, message):
    with pytest.raises(CommandError, match=message):
        call_command("consignes", "publish", write(tmp_path, "p.json", text))


@pytest.mark.django_db(transaction=True)
def test_cli_exit_codes_and_messages(tmp_path, make_contract):
    missing = smartoa("consignes", "publish", str(tmp_path / "nope.json"))
    assert missing.returncode != 0 and "no such file" in missing.stderr
    make_contract("BOA00001")
    bad = smartoa(
        "consignes", "publish", write(tmp_path, "p.json", json.dumps(dict(DOC, application_date="2026-03-30")))
    )
    assert bad.returncode != 0 and "nothing was published" in bad.stderr
    ok = smartoa("consignes", "publish", write(tmp_path, "q.json", json.dumps(DOC)), SMARTOA_NOW=BEFORE_CUTOFF)
    assert ok.returncode == 0, ok.stderr
    assert "BOA00001 2026-03-29 v1 published" in ok.stdout


@pytest.mark.django_db(transaction=True)
def test_demo_refused_in_production():
    result = smartoa("demo", SMARTOA_ENV="production", SMARTOA_SECRET_KEY="k" * 40, SMARTOA_ALLOWED_HOSTS="x")
    assert result.returncode != 0 and "refused in production" in result.stderr
