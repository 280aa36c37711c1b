"""Every back-office page is for operators: an account that is not staff gets a 403 page, someone not signed in
is sent to the login; writes posted by a non-operator change nothing."""

from __future__ import annotations

import pytest

from smartoa.accounts.models import User
from smartoa.audit.models import AuditEvent
from smartoa.contracts.models import Contract
from tests.factories import signed_in

PAGES = [
    "/backoffice/",
    "/backoffice/?export=csv",
    "/backoffice/publication/",
    "/backoffice/publication/preview/",
    "/backoffice/publication/modify/",
    "/backoffice/hlar/",
    "/backoffice/contracts/",
    "/backoffice/contracts/import/",
    "/backoffice/contracts/import/preview/",
    "/backoffice/contracts/BOA00001/",
    "/backoffice/accounts/",
    "/backoffice/accounts/new/",
    "/backoffice/accounts/1/reset-totp/",
    "/backoffice/audit/",
    "/backoffice/audit/?export=xlsx",
    "/backoffice/curves/upload/",
    "/backoffice/contracts/BOA00001/curve/",
    "/backoffice/contracts/BOA00001/statement/2026-11.json",
]
WRITES = [
    "/backoffice/publication/",
    "/backoffice/publication/publish/",
    "/backoffice/publication/modify/",
    "/backoffice/hlar/",
    "/backoffice/contracts/import/",
    "/backoffice/contracts/import/confirm/",
    "/backoffice/contracts/BOA00001/",
    "/backoffice/accounts/new/",
    "/backoffice/accounts/1/reset-totp/",
    "/backoffice/curves/upload/",
]


@pytest.fixture
def producer(client, make_contract):
    make_contract("BOA00001")
    signed_in(client, User.objects.create_user("producer@example.org", "a long password 123"))
    return client


@pytest.mark.parametrize("url", PAGES)
def test_an_account_that_is_not_staff_is_refused(producer, url):
    response = producer.get(url)
    assert response.status_code == 403
    assert "Page réservée aux opérateurs" in response.content.decode()


@pytest.mark.parametrize("url", WRITES)
def test_a_write_by_an_account_that_is_not_staff_changes_nothing(producer, url):
    before = AuditEvent.objects.count()
    data = {"email": "x@example.org", "confirm": "on", "day": "2026-11-25", "time": "18:00", "force": "on"}
    assert producer.post(url, data).status_code == 403
    assert AuditEvent.objects.count() == before and User.objects.count() == 1 and Contract.objects.count() == 1


def test_a_deactivated_operator_is_refused(client, db):
    user = User.objects.create_user("ops@example.org", "a long password 123", is_staff=True)
    signed_in(client, user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/backoffice/").status_code != 200


@pytest.mark.parametrize("url", ["/backoffice/", "/backoffice/audit/", "/backoffice/publication/"])
def test_someone_not_signed_in_is_sent_to_the_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/connexion/?next=")
