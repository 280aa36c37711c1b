"""The dry run of a contracts import (``plan_import``, for the back office): it writes nothing and says what the
import then does — contracts created and updated (with the fields that change), accounts created, managers
replaced."""

from __future__ import annotations

from django.db import transaction

from smartoa.accounts.models import User
from smartoa.audit.models import AuditEvent
from smartoa.contracts.importing import (
    ContractUpdate,
    ManagerChange,
    import_contracts,
    parse_contracts_csv,
    plan_import,
)
from smartoa.contracts.models import Contract

HEADER = "contract_id,name,sector,installed_power,power_unit,holder_email,manager_email,network_id\n"


def rows(*lines):
    return parse_contracts_csv(HEADER + "".join(lines))


def test_the_plan_says_what_the_import_does_and_writes_nothing(db):
    with transaction.atomic():
        import_contracts(
            rows(
                "BOA00001,Parc A,pv,15,MWc,a@x.fr,g@x.fr,\n",
                "BOA00002,Parc B,pv,15,MWc,a@x.fr,,\n",
            ),
            actor="test",
        )
    before = (AuditEvent.objects.count(), User.objects.count(), Contract.objects.count())
    new = rows(
        "BOA00001,Parc A,pv,15,MWc,a@x.fr,h@x.fr,\n",  # manager replaced
        "BOA00002,Parc B bis,pv,16.5,MWc,a@x.fr,,30001\n",  # three fields change
        "BOA00003,Parc C,wind_offshore,400,MW,c@x.fr,h@x.fr,\n",  # h@x.fr created once
    )
    plan = plan_import(new)
    assert (AuditEvent.objects.count(), User.objects.count(), Contract.objects.count()) == before
    assert plan.created == ["BOA00003"]
    assert plan.updated == [
        ContractUpdate("BOA00001", ()),
        ContractUpdate("BOA00002", ("name", "installed_power", "network_id")),
    ]
    assert plan.accounts_created == ["h@x.fr", "c@x.fr"]
    assert plan.managers_replaced == [ManagerChange("BOA00001", "g@x.fr", "h@x.fr")]
    with transaction.atomic():
        summary = import_contracts(new, actor="test")
    assert summary.created == plan.created
    assert summary.updated == [u.contract_id for u in plan.updated]
    assert summary.accounts_created == plan.accounts_created
    assert AuditEvent.objects.filter(action="manager.changed").count() == 1
    assert plan_import(new).fingerprint() != plan.fingerprint()  # now nothing would be created
    assert plan_import(new).fingerprint() == plan_import(new).fingerprint()
