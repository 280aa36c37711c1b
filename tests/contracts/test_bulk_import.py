"""A first import writes its new contracts, accounts, roles, audit events and login e-mails in bulk: the number
of queries grows with the batches, not with the lines, and what is written is what the per-contract services write
(an update of existing contracts, and a holder who is also the manager, still go through them)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from smartoa.accounts.models import Role, User
from smartoa.audit.models import AuditEvent
from smartoa.contracts.importing import import_contracts, parse_contracts_csv
from smartoa.contracts.models import ApiToken, Contract
from tests.factories import make_token, outbox

pytestmark = pytest.mark.django_db
HEADER = "contract_id,name,sector,installed_power,power_unit,holder_email,manager_email,network_id\n"


def lines(count: int, start: int = 0, *, manager: str = "gestion@example.fr") -> str:
    return "".join(
        f"BOA{n:05d},Parc {n},pv,15,MWc,producteur{n}@example.fr,{manager},3000{n:010d}\n"
        for n in range(start, start + count)
    )


def run(text: str):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        summary = import_contracts(parse_contracts_csv(HEADER + text), actor="ops@example.org")
    return summary, len(queries)


def test_the_queries_grow_with_the_batches_not_with_the_lines():
    _, ten = run(lines(10))
    _, four_hundred = run(lines(400, start=10))
    # Inserts go in batches (SQLite takes at most 999 parameters per statement): 400 lines cost a few more
    # statements than 10 lines, not several per line as the per-contract services would.
    assert ten < 15 and four_hundred < 40


def test_a_first_import_writes_what_the_services_write():
    summary, _ = run(lines(3))
    assert summary.created == ["BOA00000", "BOA00001", "BOA00002"] and summary.updated == []
    assert summary.accounts_created == [
        "producteur0@example.fr",
        "gestion@example.fr",
        "producteur1@example.fr",
        "producteur2@example.fr",
    ]
    contract = Contract.objects.get(contract_id="BOA00001")
    assert contract.name == "Parc 1" and contract.network_id == "30000000000001" and contract.created_at
    kinds = dict(Role.objects.filter(contract=contract).values_list("user__email", "kind"))
    assert kinds == {"producteur1@example.fr": "holder", "gestion@example.fr": "manager"}
    assert all(u.password.startswith("provisional_pbkdf2_sha256$") for u in User.objects.all())
    counts = {
        a: AuditEvent.objects.filter(action=a, actor="ops@example.org").count()
        for a in ("account.created", "role.assigned", "contract.imported")
    }
    assert counts == {"account.created": 4, "role.assigned": 6, "contract.imported": 3}
    role = AuditEvent.objects.filter(action="role.assigned", contract=contract, details__kind="manager").get()
    assert role.user.email == "gestion@example.fr"
    assert sorted(m.recipient for m in outbox(event="account.created")) == sorted(summary.accounts_created)


def test_an_update_and_a_new_manager_go_through_the_services():
    run(lines(2))
    token = make_token(Contract.objects.get(contract_id="BOA00000"))
    summary, _ = run(
        lines(1, manager="autre@example.fr") + "BOA00007,Solo,pv,15,MWc,solo@example.fr,solo@example.fr,\n"
    )
    assert summary.updated == ["BOA00000"] and summary.created == ["BOA00007"]
    assert summary.accounts_created == ["autre@example.fr", "solo@example.fr"]
    assert Role.objects.get(contract__contract_id="BOA00000", kind="manager").user.email == "autre@example.fr"
    assert not ApiToken.objects.filter(revoked_at__isnull=True, prefix=token[:10]).exists()  # the manager changed
    assert AuditEvent.objects.filter(action="manager.changed").count() == 1
    (solo,) = Role.objects.filter(contract__contract_id="BOA00007")
    assert (solo.user.email, solo.kind) == ("solo@example.fr", "manager")
