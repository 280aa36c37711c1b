"""What the back office's publication preview needs from ``plan_generation``: the active contracts left out as
ineligible with their reason, a fingerprint of what would be written, and the publication deadline."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.db import transaction

from smartoa.consignes.deadlines import set_hlar
from smartoa.consignes.generation import check_publication_open, plan_generation, publish_plan
from smartoa.consignes.models import Consigne
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
    with clock(paris("2026-11-24", "15:59")):
        check_publication_open(DAY)
    with clock(paris("2026-11-24", "16:00")), pytest.raises(DeadlinePassed, match="publication of 2026-11-25 closed"):
        publish_plan(plan, actor="ops@example.org", check_deadline=True)
    assert Consigne.objects.count() == 0
    with clock(paris("2026-11-24", "16:00")), transaction.atomic():
        set_hlar(DAY, time(17, 0), actor="test")  # postponed: open until 16:30
        publish_plan(plan, actor="ops@example.org", check_deadline=True)
    assert Consigne.objects.count() == 1


def test_the_command_line_does_not_check_the_deadline(contracts):
    with clock(paris("2026-11-26", "12:00")), transaction.atomic():
        publish_plan(plan_generation(prices(), DAY), actor="cli")
    assert Consigne.objects.count() == 1
