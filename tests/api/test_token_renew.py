"""POST /api/v1/token/renew: a new token, returned once; the calling one is revoked at once."""

import pytest

from smartoa.audit.models import AuditEvent
from smartoa.contracts.models import ApiToken
from tests.factories import paris


@pytest.fixture
def caller(make_contract, issue_token, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "10:00")
    contract = make_contract("BOA00001")
    return contract, issue_token(contract)


def renew(wsgi, token):
    return wsgi("POST", "/api/v1/token/renew", headers={"Authorization": f"Bearer {token}"})


def test_renew_returns_a_working_token_and_revokes_the_old_one(caller, wsgi):
    contract, old = caller
    response = renew(wsgi, old)
    assert response.status == 201 and response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["expires_at"].startswith("2026-03-") and body["token"] != old
    assert ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).count() == 1
    refused = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {old}"})
    assert refused.status == 401 and refused.json()["error"] == "revoked_token"
    works = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {body['token']}"})
    assert works.status == 404  # authenticated; nothing published yet
    assert AuditEvent.objects.filter(action="token.issued", actor__startswith="api:").exists()


def test_a_revoked_token_cannot_renew(caller, wsgi):
    _, old = caller
    assert renew(wsgi, old).status == 201
    again = renew(wsgi, old)
    assert again.status == 401 and again.json()["error"] == "revoked_token"
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_renew_needs_a_token(caller, wsgi):
    assert wsgi("POST", "/api/v1/token/renew").status == 401
