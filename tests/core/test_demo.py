"""The demo data: a newcomer logs in within a minute with what it prints (login, password, TOTP secret), and calls
the API with the printed tokens; `smartoa totp code` gives the current code in the test environment only."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from smartoa.accounts.models import User
from smartoa.accounts.roles import role_of
from smartoa.accounts.security import verify_second_factor
from tests.browser import totp_code
from tests.subprocess_env import smartoa

ACCOUNT = re.compile(r"^(operator|producer)[^:]*: (\S+) / (\S+) / TOTP secret ([A-Z2-7 ]+)$")
ROLE = re.compile(r"^operator, role (\w+)")


@pytest.mark.django_db
def test_demo_data_gives_working_logins_and_tokens(wsgi):
    out = StringIO()
    call_command("demo", stdout=out)
    lines = out.getvalue().splitlines()
    tokens = {line.split()[0]: line.split()[-1] for line in lines if "API token" in line}
    assert set(tokens) == {"BOAXXXXX", "BOA00001", "BOA00002"}
    for contract_id, token in tokens.items():
        response = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"})
        assert response.status == 200 and response.json()["id"] == contract_id
    accounts = [ACCOUNT.match(line).groups() for line in lines if ACCOUNT.match(line)]
    assert {kind for kind, *_ in accounts} == {"operator", "producer"} and len(accounts) == 5
    # One operator per role, in that role.
    roles = {ROLE.match(line).group(1): ACCOUNT.match(line).group(2) for line in lines if ROLE.match(line)}
    assert {role: role_of(User.objects.get(email=email)).key for role, email in roles.items()} == {
        "Lecture": "lecture",
        "Administrateur": "administrateur",
        "Opérateur": "operateur",
    }
    for kind, email, password, secret in accounts:
        user = User.objects.get(email=email)
        assert user.check_password(password) and not user.must_change_password
        assert user.is_staff == (kind == "operator")
        assert verify_second_factor(user, totp_code(secret, steps_ahead=1), ip=None).ok
    # Loading it again re-issues the tokens and keeps what exists.
    call_command("demo", stdout=StringIO())
    revoked = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {tokens['BOAXXXXX']}"})
    assert revoked.status == 401


@pytest.mark.django_db(transaction=True)
def test_totp_code_in_test_only():
    call_command("demo", stdout=StringIO())
    code = smartoa("totp", "code", "producteur@demo.smart-oa.example")
    assert code.returncode == 0 and re.fullmatch(r"\d{6}\n", code.stdout), code.stderr
    assert verify_second_factor(User.objects.get(email="producteur@demo.smart-oa.example"), code.stdout, ip=None).ok
    refused = smartoa(
        "totp",
        "code",
        "producteur@demo.smart-oa.example",
        SMARTOA_ENV="production",
        SMARTOA_SECRET_KEY="k" * 40,
        SMARTOA_ALLOWED_HOSTS="x.example",
    )
    assert refused.returncode == 1 and "refused in production" in refused.stderr and not refused.stdout
    unknown = smartoa("totp", "code", "nobody@example.org")
    assert unknown.returncode == 1 and "no account" in unknown.stderr


@pytest.mark.django_db(transaction=True)
def test_the_demo_emails_carry_passwords_that_work():
    """Every login e-mail the demo writes holds a password that logs in: the ready accounts get none (the demo sets
    their password), the account left at its first login gets its provisional password, also printed."""
    out = StringIO()
    call_command("demo", stdout=out)
    printed = re.search(r"^first login .*: (\S+) / provisional password (\S+) ", out.getvalue(), re.MULTILINE)
    email, password = printed.groups()
    logins = [m for m in mail.outbox if "Mot de passe provisoire" in m.body]
    assert [m.to for m in logins] == [[email]]
    assert f"Mot de passe provisoire : {password}\n" in logins[0].body and "- BOAXXXXX (" in logins[0].body
    user = User.objects.get(email=email)
    assert user.check_password(password) and user.must_change_password
