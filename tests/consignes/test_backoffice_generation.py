"""What the back office's publication preview needs from ``plan_generation``: the active contracts left out as
ineligible with their reason, a fingerprint of what would be written, and the publication deadline."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.db import transaction

from smartoa.audit.models import AuditEvent
from smartoa.consignes.deadlines import set_hlar
from smartoa.consignes.generation import plan_generation, publish_plan
from smartoa.consignes.models import Consigne
from smartoa.consignes.rules import Force
from smartoa.domain.calendar import STEP_15, iso, steps
from smartoa.domain.errors import DeadlinePassed
from tests.factories import clock, paris

DAY = date(2026, 11, 25)


def prices(negative=range(48, 72)) -> str:
    rows = [f"{iso(m)},{-5 if n in negative else 40}" for n, m in enumerate(steps(DAY, STEP_15))]
    return "start,price\n" + "\n".join(rows) + "\n"


@pytest.fixture
def contracts(make_contract):
    return [
        make_contract("BOA00001"),
        make_contract("BOA00002", sector="wind_onshore", power="9.5"),
        make_contract("BOA00003", power="11.999"),
        make_contract("BOAOFF", active=False),
    ]


def test_ineligible_active_contracts_come_with_their_reason(contracts):
    plan = plan_generation(prices(), DAY)
    assert [c.contract_id for c in plan.contracts] == ["BOA00001"]
    assert [(i.contract.contract_id, str(i.reason)) for i in plan.ineligible] == [
        ("BOA00002", "9.5 MW is below the threshold of 10"),
        ("BOA00003", "11.999 MWc is below the threshold of 12"),
    ]
    assert plan.has_stop and plan.summary == "stop 11:55–18:00"


def test_the_fingerprint_follows_what_would_be_written(contracts, make_contract):
    plan = plan_generation(prices(), DAY)
    assert plan_generation(prices(), DAY).fingerprint() == plan.fingerprint()
    assert plan_generation(prices(range(0)), DAY).fingerprint() != plan.fingerprint()  # another schedule
    make_contract("BOA00004")
    assert plan_generation(prices(), DAY).fingerprint() != plan.fingerprint()  # another contract
    assert plan_generation(prices(), DAY, exclude=["BOA00004"]).fingerprint() == plan.fingerprint()


def test_publication_deadline(contracts):
    plan = plan_generation(prices(), DAY)
    with clock(paris("2026-11-24", "16:00")), pytest.raises(DeadlinePassed, match="2026-11-25: publication and"):
        publish_plan(plan, actor="ops@example.org")
    assert Consigne.objects.count() == 0
    with clock(paris("2026-11-24", "16:00")), transaction.atomic():
        set_hlar(DAY, time(17, 0), actor="test")  # postponed: open until 16:30
        publish_plan(plan, actor="ops@example.org")
    assert Consigne.objects.count() == 1


def test_publication_is_open_until_the_minute_before_the_deadline(contracts):
    with clock(paris("2026-11-24", "15:59")), transaction.atomic():
        publish_plan(plan_generation(prices(), DAY), actor="ops@example.org")
    assert AuditEvent.objects.get(action="consigne.published").details["forced"] is False


def test_the_command_line_obeys_the_deadline_too_unless_forced(contracts):
    plan = plan_generation(prices(), DAY)
    with clock(paris("2026-11-26", "12:00")), pytest.raises(DeadlinePassed):
        publish_plan(plan, actor="cli")
    assert Consigne.objects.count() == 0
    with clock(paris("2026-11-26", "12:00")), transaction.atomic():
        publish_plan(plan, actor="cli", force=Force("RTE asked for it by phone"))
    assert Consigne.objects.count() == 1
    details = AuditEvent.objects.get(action="consigne.published").details
    assert (details["forced"], details["force_reason"], details["overridden"]) == (
        True,
        "RTE asked for it by phone",
        ["deadline_passed"],
    )
