"""API access of several contracts in one step (``contracts.bulk``): one address added to or removed from the
selected contracts, new tokens for them — all or nothing per call, only on contracts the account holds, audited
per contract with the account and its address; and every refusal leaves everything as it was."""

from __future__ import annotations

import pytest
from django.db import transaction

from smartoa.accounts.services import create_account, grant_role
from smartoa.audit.models import AuditEvent
from smartoa.contracts.bulk import add_address, held_contracts, issue_tokens, remove_address
from smartoa.contracts.ips import InvalidAddress
from smartoa.contracts.models import AllowedIP, ApiToken
from smartoa.contracts.services import add_ips, issue_token
from smartoa.contracts.tokens import hash_token
from smartoa.domain.errors import InvalidInput, NotFound
from tests.factories import PUBLIC_IP, PUBLIC_IP_2, clock, paris

NOW = paris("2026-11-24", "10:00")
MINE = ("AGG00001", "AGG00002", "AGG00003")


@pytest.fixture
def aggregator(make_contract):
    """agg@example.fr manages AGG00001–3 (AGG00002 already allows PUBLIC_IP and has a token); OTHER0001 belongs
    to another account."""
    with transaction.atomic():
        user = create_account("agg@example.fr", actor="test")
        for cid in MINE:
            grant_role(user, make_contract(cid).pk, "manager", actor="test")
        other = make_contract("OTHER0001")
        grant_role(create_account("other@example.fr", actor="test"), other.pk, "holder", actor="test")
        mine2 = user.roles.get(contract__contract_id="AGG00002").contract
        add_ips(mine2, [PUBLIC_IP], actor="test")
        with clock(NOW):
            issue_token(mine2, actor="test")
    return user


def allowed() -> set[tuple[str, str]]:
    return set(AllowedIP.objects.values_list("contract__contract_id", "address"))


def state() -> tuple:
    """Everything the bulk services may change: addresses, tokens (hash and revocation), audit events."""
    tokens = set(ApiToken.objects.values_list("contract__contract_id", "token_hash", "revoked_at"))
    return allowed(), tokens, AuditEvent.objects.count()


def run(service, *args, **kwargs):
    with transaction.atomic(), clock(NOW):
        return service(*args, ip="80.12.34.99", **kwargs)


def test_held_contracts_by_id_without_duplicates(aggregator):
    assert [c.contract_id for c in held_contracts(aggregator, ["AGG00003", "AGG00001", "AGG00003"])] == [
        "AGG00001",
        "AGG00003",
    ]


def test_one_address_added_to_the_selected_contracts(aggregator):
    change = run(add_address, aggregator, MINE, f" {PUBLIC_IP} ")
    assert (change.address, change.changed, change.unchanged) == (PUBLIC_IP, ["AGG00001", "AGG00003"], ["AGG00002"])
    assert allowed() == {(cid, PUBLIC_IP) for cid in MINE}
    events = AuditEvent.objects.filter(action="ip.added", details__bulk=True).order_by("contract__contract_id")
    assert [(e.contract.contract_id, e.actor, e.user_id, e.ip, e.details["addresses"]) for e in events] == [
        ("AGG00001", "agg@example.fr", aggregator.pk, "80.12.34.99", [PUBLIC_IP]),
        ("AGG00003", "agg@example.fr", aggregator.pk, "80.12.34.99", [PUBLIC_IP]),
    ]


def test_an_ipv6_address_is_stored_in_its_canonical_form(aggregator):
    change = run(add_address, aggregator, ["AGG00001"], "2A01:0E0A:0001:0002:0000:0000:0000:0007")
    assert change.address == PUBLIC_IP_2 and ("AGG00001", PUBLIC_IP_2) in allowed()


def test_one_address_removed_from_the_selected_contracts(aggregator):
    run(add_address, aggregator, ["AGG00001"], PUBLIC_IP)
    change = run(remove_address, aggregator, MINE, PUBLIC_IP)
    assert (change.changed, change.unchanged) == (["AGG00001", "AGG00002"], ["AGG00003"])
    assert allowed() == set()
    removed = AuditEvent.objects.filter(action="ip.removed").order_by("contract__contract_id")
    assert [(e.contract.contract_id, e.ip, e.details["addresses"]) for e in removed] == [
        ("AGG00001", "80.12.34.99", [PUBLIC_IP]),
        ("AGG00002", "80.12.34.99", [PUBLIC_IP]),
    ]


def test_removing_an_address_declared_nowhere_changes_nothing(aggregator):
    before = state()
    change = run(remove_address, aggregator, ["AGG00001", "AGG00003"], PUBLIC_IP_2)
    assert (change.changed, change.unchanged) == ([], ["AGG00001", "AGG00003"])
    assert state() == before


def test_new_tokens_for_the_selected_contracts(aggregator, settings):
    old = ApiToken.objects.get(contract__contract_id="AGG00002", revoked_at__isnull=True)
    issued = run(issue_tokens, aggregator, ["AGG00003", "AGG00002", "AGG00001"])
    assert [t.contract_id for t in issued] == list(MINE)
    assert [t.replaced for t in issued] == [False, True, False]
    active = {t.contract.contract_id: t for t in ApiToken.objects.filter(revoked_at__isnull=True)}
    assert sorted(active) == list(MINE)
    for t in issued:
        stored = active[t.contract_id]
        assert stored.token_hash == hash_token(t.plain) and stored.prefix == t.plain[:10]
        assert t.plain not in stored.token_hash and stored.expires_at == t.expires_at
        assert stored.created_by == "agg@example.fr"
        assert (t.expires_at - NOW).days == settings.SMARTOA_TOKEN_LIFETIME_DAYS
    old.refresh_from_db()
    assert old.revoked_at == NOW  # the previous token stops at once
    events = AuditEvent.objects.filter(action="token.issued", details__bulk=True).order_by("contract__contract_id")
    assert [(e.contract.contract_id, e.ip, e.user_id, e.details["revoked_previous"]) for e in events] == [
        ("AGG00001", "80.12.34.99", aggregator.pk, 0),
        ("AGG00002", "80.12.34.99", aggregator.pk, 1),
        ("AGG00003", "80.12.34.99", aggregator.pk, 0),
    ]
    assert all(t.plain not in str(e.details) for e in events for t in issued)  # never written anywhere


@pytest.mark.parametrize(
    "service", [lambda u, ids: add_address(u, ids, PUBLIC_IP_2), lambda u, ids: remove_address(u, ids, PUBLIC_IP)]
)
@pytest.mark.parametrize(
    "ids",
    [
        ["AGG00001", "OTHER0001"],  # another account's contract among mine
        ["AGG00001", "NOPE00001"],  # a contract that does not exist
        ["AGG00001", "agg-00001"],  # not an id
        ["OTHER0001"],
    ],
)
def test_a_contract_not_held_refuses_the_whole_address_change(aggregator, service, ids):
    before = state()
    with pytest.raises(NotFound) as refused, transaction.atomic():
        service(aggregator, ids)
    assert refused.value.params["contract_id"] == ids[-1]
    assert state() == before


@pytest.mark.parametrize("ids", [["AGG00001", "OTHER0001"], ["NOPE00001"]])
def test_a_contract_not_held_refuses_every_token(aggregator, ids):
    before = state()
    with pytest.raises(NotFound), transaction.atomic():
        issue_tokens(aggregator, ids)
    assert state() == before  # no token revoked, none created


@pytest.mark.parametrize(
    "address", ["10.0.0.7", "80.12.34.0/24", "scada.example.fr", "127.0.0.1", "", "fe80::1%eth0", "300.1.2.3"]
)
def test_an_address_that_cannot_be_declared_is_refused_on_every_contract(aggregator, address):
    before = state()
    with pytest.raises(InvalidAddress), transaction.atomic():
        add_address(aggregator, MINE, address)
    assert state() == before


@pytest.mark.parametrize("address", ["scada.example.fr", "80.12.34.0/24", ""])
def test_a_removal_of_what_is_not_an_address_is_refused(aggregator, address):
    before = state()
    with pytest.raises(InvalidAddress), transaction.atomic():
        remove_address(aggregator, MINE, address)
    assert state() == before


@pytest.mark.parametrize(
    "service",
    [
        lambda u, ids: add_address(u, ids, PUBLIC_IP_2),
        lambda u, ids: remove_address(u, ids, PUBLIC_IP),
        lambda u, ids: issue_tokens(u, ids),
    ],
)
def test_an_empty_selection_is_refused(aggregator, service):
    before = state()
    with pytest.raises(InvalidInput) as refused, transaction.atomic():
        service(aggregator, [])
    assert refused.value.code == "invalid_input" and "no contract selected" in str(refused.value)
    assert state() == before
