from io import StringIO

import pytest
from django.core.management import call_command

from smartoa.accounts.models import User


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
    operator_line = next(line for line in lines if line.startswith("operator"))
    email, password = operator_line.split(": ", 1)[1].split(" / ")
    assert User.objects.get(email=email).check_password(password)
    # Loading it again re-issues the tokens and keeps what exists.
    call_command("demo", stdout=StringIO())
    revoked = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {tokens['BOAXXXXX']}"})
    assert revoked.status == 401
