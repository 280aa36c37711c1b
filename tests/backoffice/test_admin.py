"""The admin is a read-only browser: every model's add/change/delete is refused, to everyone, and every operator
write goes through an operation that calls the same service as the command line (same checks, same audit)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib import admin
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from smartoa.accounts.models import Role, User
from smartoa.audit.models import AuditEvent
from smartoa.consignes.models import Acknowledgment, Consigne, ConsigneVersion, HlarOverride
from smartoa.contracts.models import AllowedIP, ApiToken
from smartoa.contracts.tokens import hash_token
from tests.factories import PUBLIC_IP, acknowledge, as_json, make_operator, make_token, paris, signed_in, stop_periods

# (add, change, delete) through the admin's generic views, for every registered model. Writes are operations.
EXPECTED = {
    "audit.AuditEvent": (False, False, False),
    "accounts.User": (False, False, False),
    "contracts.Contract": (False, False, False),
    "contracts.ApiToken": (False, False, False),
    "contracts.EligibilityRule": (False, False, False),
    "consignes.Consigne": (False, False, False),
    "consignes.ConsigneVersion": (False, False, False),
    "consignes.Acknowledgment": (False, False, False),
    "consignes.HlarOverride": (False, False, False),
    "metering.CurveImport": (False, False, False),
    "metering.CurveMonth": (False, False, False),
    "metering.CurveHistory": (False, False, False),
    "billing.ContractCurves": (False, False, False),
    "billing.ComplianceRun": (False, False, False),
    "billing.ComplianceRequest": (False, False, False),
    "billing.ContractMonth": (False, False, False),
    "billing.EpisodeResult": (False, False, False),
    "billing.CompensationInput": (False, False, False),
    "notifications.Webhook": (False, False, False),
    "notifications.OutboxMessage": (False, False, False),
    "notifications.AccountPreference": (False, False, False),
    "notifications.ContractReminderChoice": (False, False, False),
    "notifications.ExtraAddress": (False, False, False),
    "jobs.JobRun": (False, False, False),
}
# The platform's models left out of the admin, and why: each is shown on its owner's page instead.
NOT_IN_ADMIN = {
    "accounts.Role": "shown inline on accounts and contracts; granted through the contracts file and operations",
    "accounts.BackupCode": "secrets (HMACs of one-time codes): nobody browses them",
    "accounts.AccountSession": "sessions (their keys are bearer secrets): each account sees and ends its own",
    "contracts.AllowedIP": "shown inline on the contract; changed through the IP operations",
    "consignes.ReminderSent": "the reminder job's former bookkeeping, read only for the days it covers",
    "notifications.SentReminder": "the reminder job's bookkeeping (one row per recipient, contract, day and version)",
    "notifications.Event": "the change records the stream replays and the outbox points to: read through them",
}


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root@example.org", "a long password 123")


@pytest.fixture
def operator(client, db):
    return make_operator(client)


def test_every_registered_model_is_read_only_for_a_superuser(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    found = {}
    for model, model_admin in admin.site._registry.items():
        found[model._meta.label] = (
            model_admin.has_add_permission(request),
            model_admin.has_change_permission(request),
            model_admin.has_delete_permission(request),
        )
        assert not model_admin.get_actions(request), f"{model._meta.label} offers bulk actions"
        for inline in model_admin.get_inline_instances(request):
            assert not (inline.has_add_permission(request, None) or inline.has_delete_permission(request, None))
            assert not inline.has_change_permission(request, None)
    assert found == EXPECTED  # a model registered later must be added here, with its operations tested


def test_every_model_of_the_platform_is_either_read_only_in_the_admin_or_left_out_with_a_reason():
    from django.apps import apps

    ours = {m._meta.label for m in apps.get_models() if m.__module__.startswith("smartoa.")}
    registered = {m._meta.label for m in admin.site._registry if m.__module__.startswith("smartoa.")}
    assert ours == registered | set(NOT_IN_ADMIN), "a new model must be registered read-only or listed in NOT_IN_ADMIN"
    assert not registered & set(NOT_IN_ADMIN)


def test_generic_add_change_delete_views_refuse(client, superuser, make_contract):
    signed_in(client, superuser)
    contract = make_contract("BOA00001")
    assert client.get(reverse("admin:contracts_contract_add")).status_code == 403
    delete = reverse("admin:contracts_contract_delete", args=[contract.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    response = client.post(reverse("admin:contracts_contract_change", args=[contract.pk]), {"name": "Renamed"})
    assert response.status_code == 403
    contract.refresh_from_db()
    assert contract.name == "Installation BOA00001"


def test_versions_acknowledgments_and_audit_events_cannot_be_changed_or_deleted(make_contract, settings):
    contract = make_contract("BOA00001")
    day = date(2025, 9, 22)
    from tests.factories import publish_day

    publish_day(contract, day)
    ack = acknowledge(contract, day)
    version = ConsigneVersion.objects.get()
    event = AuditEvent.objects.first()
    for row in (version, ack, event):
        with pytest.raises(Exception, match="cannot be"):
            row.save()
        with pytest.raises(Exception, match="cannot be"):
            row.delete()


def operation(client, model, name, data, obj=None):
    label = model._meta.app_label, model._meta.model_name
    if obj is None:
        url = reverse("admin:%s_%s_operation" % label, args=[name])
    else:
        url = reverse("admin:%s_%s_object_operation" % label, args=[obj.pk, name])
    return client.post(url, data)


def test_ip_operation_validates_and_audits(client, operator, make_contract):
    from smartoa.contracts.models import Contract

    contract = make_contract("BOA00001")
    bad = operation(client, Contract, "add-ips", {"addresses": f"{PUBLIC_IP}\n10.0.0.1"}, contract)
    assert bad.status_code == 400 and "privée" in bad.content.decode()
    assert AllowedIP.objects.count() == 0
    good = operation(client, Contract, "add-ips", {"addresses": PUBLIC_IP}, contract)
    assert good.status_code == 302
    assert list(AllowedIP.objects.values_list("address", flat=True)) == [PUBLIC_IP]
    event = AuditEvent.objects.get(action="ip.added")
    assert event.actor == "ops@example.org" and event.contract == contract and event.ip == "127.0.0.1"


def test_token_operation_shows_the_token_once_and_revokes_the_old_one(client, operator, make_contract):
    from smartoa.contracts.models import Contract

    contract = make_contract("BOA00001")
    old = make_token(contract)
    refused = operation(client, Contract, "issue-token", {}, contract)
    assert refused.status_code == 400  # the confirmation box is required
    response = operation(client, Contract, "issue-token", {"confirm": "on"}, contract)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    active = ApiToken.objects.get(contract=contract, revoked_at__isnull=True)
    token = next(word for word in response.content.decode().split(">") if word.startswith("soa_")).split("<")[0]
    assert hash_token(token) == active.token_hash and hash_token(old) != active.token_hash
    assert AuditEvent.objects.filter(action="token.issued", actor="ops@example.org").exists()


def test_manager_change_operation_revokes_token_clears_ips_and_tells_the_holder(
    client, operator, make_contract, django_capture_on_commit_callbacks
):
    from smartoa.contracts.models import Contract
    from smartoa.contracts.services import add_ips, assign_role

    contract = make_contract("BOA00001")
    assign_role(contract, "holder@example.org", "holder", actor="test")
    assign_role(contract, "old@example.org", "manager", actor="test")
    make_token(contract)
    add_ips(contract, [PUBLIC_IP], actor="test")
    assert operation(client, Contract, "change-manager", {"email": "not an email"}, contract).status_code == 400
    assert Role.objects.get(contract=contract, kind="manager").user.email == "old@example.org"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = operation(client, Contract, "change-manager", {"email": "new@example.org"}, contract)
    assert response.status_code == 302
    assert Role.objects.get(contract=contract, kind="manager").user.email == "new@example.org"
    assert not Role.objects.filter(user__email="old@example.org").exists()
    assert not ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).exists()
    assert not AllowedIP.objects.filter(contract=contract).exists()
    told = [m for m in mail.outbox if m.to == ["holder@example.org"]]
    assert told and "new@example.org" in told[0].body


def test_account_creation_operation_sends_the_login(client, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = operation(client, User, "create", {"email": "New@Example.org", "full_name": "Nouvelle"})
    assert response.status_code == 302
    user = User.objects.get(email="new@example.org")
    assert user.has_usable_password() and user.must_change_password and not user.is_staff
    assert [m.to for m in mail.outbox] == [["new@example.org"]] and "Mot de passe provisoire" in mail.outbox[0].body
    again = operation(client, User, "create", {"email": "new@example.org"})
    assert again.status_code == 400 and "existe déjà" in again.content.decode()
    assert AuditEvent.objects.filter(action="account.created", actor="ops@example.org").count() == 1


def test_publish_operation_gives_a_version_the_api_can_acknowledge(client, operator, make_contract, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "12:00")
    contract = make_contract("BOA00001")
    day = date(2025, 9, 22)
    document = json.dumps(as_json("BOA00001", day, stop_periods(day))).encode()
    response = client.post(
        reverse("admin:consignes_consigne_operation", args=["publish"]),
        {"file": SimpleUploadedFile("c.json", document)},
    )
    assert response.status_code == 302
    consigne = Consigne.objects.get()
    assert consigne.current_version.number == 1
    acknowledge(contract, day, moment=paris("2025-09-21", "13:00"))
    assert Acknowledgment.objects.get().version == consigne.current_version
    again = client.post(
        reverse("admin:consignes_consigne_operation", args=["publish"]),
        {"file": SimpleUploadedFile("c.json", document)},
    )
    assert again.status_code == 400 and "Déjà publiées (1 ; " in again.content.decode()


def test_hlar_operation_has_the_cli_checks(client, operator, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "17:00")  # the HLAR of 2025-09-22 (16:30) has passed
    data = {"day": "2025-09-22", "time": "18:00"}
    refused = operation(client, HlarOverride, "set", data)
    assert (
        refused.status_code == 400
        and "L&#x27;HLAR du 22/09/2025 est passée le 21/09/2025 à 16:30" in refused.content.decode()
    )
    assert HlarOverride.objects.count() == 0
    no_reason = operation(client, HlarOverride, "set", {**data, "force": "on"})
    assert no_reason.status_code == 400 and "motif est obligatoire pour forcer" in no_reason.content.decode()
    assert HlarOverride.objects.count() == 0
    forced = operation(client, HlarOverride, "set", {**data, "force": "on", "reason": "RTE rouvre le jour"})
    assert forced.status_code == 302 and HlarOverride.objects.count() == 1
    event = AuditEvent.objects.get(action="hlar.set")
    assert (event.actor, event.details["forced"], event.details["force_reason"]) == (
        "ops@example.org",
        True,
        "RTE rouvre le jour",
    )


def test_a_producer_account_cannot_open_the_admin(client, db):
    user = User.objects.create_user("producer@example.org", "a long password 123")
    signed_in(client, user)  # fully signed in, but not staff
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_outbox_and_webhook_pages_show_neither_bodies_nor_secrets(client, superuser, make_contract):
    from django.db import transaction

    from smartoa.accounts.services import create_account
    from smartoa.notifications.models import OutboxMessage, Webhook
    from smartoa.notifications.services import set_webhook

    signed_in(client, superuser)
    contract = make_contract("BOA00001")
    with transaction.atomic():
        secret = set_webhook(contract, "https://hooks.example.fr/smartoa", actor="ops@example.org")
        create_account("new@example.fr", actor="ops@example.org")
    message = OutboxMessage.objects.get(recipient="new@example.fr")
    password = message.context["password"]  # still pending here: the provisional password is in its context
    assert message.sensitive and password
    pages = [
        reverse("admin:notifications_outboxmessage_changelist"),
        reverse("admin:notifications_outboxmessage_change", args=[message.pk]),
        reverse("admin:notifications_webhook_changelist"),
        reverse("admin:notifications_webhook_change", args=[Webhook.objects.get().pk]),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert password.encode() not in response.content and secret.encode() not in response.content, page
