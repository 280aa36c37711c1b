"""Operator roles beyond the matrix: the groups hold exactly their role's permissions, an operator account is
created in a role only by an Administrateur (back office and admin alike), a role change is audited and refused
for a producer's account and for the last Administrateur, a staff account without a role sees nothing, and the
admin offers an operation only to the roles allowed to run it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from smartoa.accounts.models import User
from smartoa.accounts.roles import ADMINISTRATEUR, LECTURE, OPERATEUR, ROLES, role_of, set_role, sync_groups
from smartoa.audit.models import AuditEvent
from smartoa.core.permissions import PERMISSIONS
from smartoa.domain.errors import Conflict
from tests.factories import make_operator, signed_in


@pytest.mark.django_db
def test_each_group_holds_exactly_its_role_s_permissions():
    Group.objects.get(name="Lecture").permissions.clear()  # drifted: the next migrate puts it right
    sync_groups()
    for role in ROLES:
        held = {
            f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=role.group).permissions.all()
        }
        assert held == role.permissions
    assert LECTURE.permissions < OPERATEUR.permissions < ADMINISTRATEUR.permissions
    assert {p.split(".")[1] for p in ADMINISTRATEUR.permissions} == set(PERMISSIONS)


@pytest.mark.django_db
def test_an_operateur_creates_producer_accounts_but_no_operator(client):
    make_operator(client, role="operateur")
    form = client.get("/backoffice/accounts/new/").content.decode()
    assert 'name="role"' not in form  # the role field is an Administrateur's
    refused = client.post("/backoffice/accounts/new/", {"email": "new@example.org", "role": "administrateur"})
    assert refused.status_code == 403 and "<strong>Administrateur</strong>" in refused.content.decode()
    assert not User.objects.filter(email="new@example.org").exists()
    created = client.post("/backoffice/accounts/new/", {"email": "new@example.org"})
    assert created.status_code == 302
    assert not User.objects.get(email="new@example.org").is_staff


@pytest.mark.django_db
def test_the_admin_creates_an_operator_only_for_an_administrateur(client):
    make_operator(client, role="operateur")
    url = "/admin/accounts/user/do/create/"
    response = client.post(url, {"email": "new@example.org", "role": "lecture"})
    assert response.status_code == 403 and not User.objects.filter(email="new@example.org").exists()
    boss = Client()
    make_operator(boss, "boss@example.org", role="administrateur")
    assert boss.post(url, {"email": "new@example.org", "role": "lecture"}).status_code == 302
    assert role_of(User.objects.get(email="new@example.org")) == LECTURE


@pytest.mark.django_db
def test_role_changes_are_audited_and_refused_where_they_would_harm(client):
    boss = make_operator(client, "boss@example.org", role="administrateur")
    with pytest.raises(Conflict, match="last administrator"):
        set_role(boss, LECTURE, actor="test")
    producer = User.objects.create_user("producer@example.org")
    with pytest.raises(Conflict, match="not an operator account"):
        set_role(producer, OPERATEUR, actor="test")
    other = make_operator(Client(), "other@example.org", role="lecture")
    assert set_role(other, ADMINISTRATEUR, actor="test", reason="relève") is True
    assert set_role(other, ADMINISTRATEUR, actor="test") is False  # already: nothing recorded
    assert set_role(boss, LECTURE, actor="test") is True  # another Administrateur exists now
    events = AuditEvent.objects.filter(action="account.role_changed").order_by("pk")
    assert [(e.user_id, e.details) for e in events] == [
        (other.pk, {"role": "administrateur", "previous": "lecture", "reason": "relève"}),
        (boss.pk, {"role": "lecture", "previous": "administrateur"}),
    ]
    assert not User.objects.get(pk=boss.pk).has_perm("accounts.set_hlar")  # effective at once


@pytest.mark.django_db
def test_a_staff_account_without_a_role_sees_nothing(client):
    user = User.objects.create_user("norole@example.org", is_staff=True)
    signed_in(client, user)
    response = client.get("/backoffice/")
    assert response.status_code == 403
    assert "pas encore de rôle" in response.content.decode() and "<strong>Lecture</strong>" in response.content.decode()
    assert client.get("/admin/contracts/contract/").status_code == 403


@pytest.mark.django_db
def test_the_admin_offers_an_operation_only_to_the_roles_allowed(client, make_contract):
    make_contract("BOA00001")
    make_operator(client, role="lecture")
    page = client.get("/admin/contracts/contract/").content.decode()
    assert "/do/import/" not in page  # not offered
    operations = Client()
    make_operator(operations, "op@example.org", role="operateur")
    page = operations.get("/admin/contracts/contract/").content.decode()
    assert "/do/import/" in page
    user_page = operations.get(f"/admin/accounts/user/{User.objects.get(email='op@example.org').pk}/change/")
    assert "/do/reset-totp/" not in user_page.content.decode()  # an Administrateur's operation
