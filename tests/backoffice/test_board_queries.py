"""The control screen's reads: every contract of the day in its acknowledgment state (as ``day_states`` says),
counted, filtered and ordered in the SQL; eligibility in the SQL as ``contracts.services.eligibility`` says."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from smartoa.backoffice.queries import ORDER, board_contracts, board_rows, board_summary
from smartoa.consignes.acknowledgments import day_states
from smartoa.contracts.eligibility import eligible_condition
from smartoa.contracts.models import Contract, EligibilityRule
from smartoa.contracts.services import eligibility, eligibility_rules_on
from smartoa.domain.acknowledgment import Status
from smartoa.domain.schedule import no_stop_periods
from tests.factories import acknowledge, at, clock, modify_day, paris, periods_with, publish_day, stop_periods

DAY = date(2026, 11, 25)
BEFORE = paris("2026-11-24", "10:00")
AFTER = paris("2026-11-24", "16:30")  # HLAR itself: locked


@pytest.fixture
def day_of_contracts(make_contract):
    """One contract in each state of the 25th, plus some out of the board's scope."""
    c = {cid: make_contract(cid) for cid in ("BOA00001", "BOA00002", "BOA00003", "BOA00004")}
    c["BOASMALL"] = make_contract("BOASMALL", power="5")  # out of scope, unpublished: not on the board
    c["BOAEXTRA"] = make_contract("BOAEXTRA", power="5")  # out of scope but published: on the board
    make_contract("BOAOFF", active=False)
    for cid in ("BOA00001", "BOA00002", "BOA00003", "BOAEXTRA"):
        publish_day(c[cid], DAY, stop_periods(DAY) if cid != "BOA00002" else no_stop_periods(DAY))
    acknowledge(c["BOA00001"], DAY, actor="api:soa_abc", channel="api")
    acknowledge(c["BOA00003"], DAY)
    modify_day(c["BOA00003"], DAY, periods_with(DAY, [(at(DAY, 12), at(DAY, 13), 1.0)]), moment=BEFORE)
    return c


def states(day, **kwargs):
    summary = board_summary(day)
    query = board_contracts(day, locked=summary.locked, **kwargs)
    return {row["contract_id"]: row["state"] for row in board_rows(day, query)}


def test_each_state_as_day_states_says(day_of_contracts):
    with clock(BEFORE):
        found = states(DAY)
        expected = day_states([c.pk for c in day_of_contracts.values()], DAY)
    assert found == {
        "BOA00003": Status.VOIDED,
        "BOA00002": Status.TO_DO,
        "BOAEXTRA": Status.TO_DO,
        "BOA00004": Status.NOT_PUBLISHED,
        "BOA00001": Status.DONE,
    }
    assert list(found) == ["BOA00003", "BOA00002", "BOAEXTRA", "BOA00004", "BOA00001"]  # missing ones first
    for cid, state in found.items():
        assert expected[day_of_contracts[cid].pk].status == state


def test_after_hlar_what_is_not_acknowledged_is_missed(day_of_contracts):
    with clock(AFTER):
        found = states(DAY)
        summary = board_summary(DAY)
    assert found["BOA00002"] == found["BOA00003"] == Status.MISSED and found["BOA00001"] == Status.DONE
    assert summary.locked and summary.counts[Status.MISSED] == 3 and summary.missing == 3


def test_summary_counts_filter_and_rows(day_of_contracts):
    with clock(BEFORE):
        summary = board_summary(DAY)
        assert summary.by_state() == [
            (Status.VOIDED, 1),
            (Status.TO_DO, 2),
            (Status.NOT_PUBLISHED, 1),
            (Status.DONE, 1),
        ]
        assert (summary.total, summary.published, summary.stops, summary.not_published) == (5, 4, 3, ["BOA00004"])
        assert summary.deadlines.hlar == paris("2026-11-24", "16:30") and summary.deadlines.changes_open
        assert list(states(DAY, state=Status.TO_DO)) == ["BOA00002", "BOAEXTRA"]
        rows = board_rows(DAY, board_contracts(DAY, locked=False, state=Status.DONE))
    assert rows[0]["acknowledged_by"] == "api:soa_abc" and rows[0]["channel"] == "api"
    assert rows[0]["version"] == rows[0]["acknowledged_version"] == 1
    assert ORDER[-1] == Status.DONE


def test_whole_day_export_rows_match_the_page_rows(day_of_contracts):
    with clock(BEFORE):
        query = board_contracts(DAY, locked=False)
        assert board_rows(DAY, query, every_contract=True) == board_rows(DAY, query)


def test_eligibility_in_sql_agrees_with_the_service(make_contract):
    EligibilityRule.objects.create(sector="wind_onshore", min_power_mw=Decimal(11), effective_from=date(2026, 6, 1))
    n = 0
    for power in ("0.001", "9.999", "10", "11", "12", "5000"):
        for sector in ("pv", "wind_onshore", "wind_offshore"):
            n += 1
            make_contract(f"BOA{n:05d}", sector=sector, power=power, active=n % 5 != 0)
    for day in (date(2024, 12, 31), date(2026, 5, 31), date(2026, 6, 1)):
        rules = eligibility_rules_on(day)
        in_sql = set(Contract.objects.filter(eligible_condition(rules)).values_list("contract_id", flat=True))
        in_python = {c.contract_id for c in Contract.objects.all() if eligibility(c, day, rules) is None}
        assert in_sql == in_python
    assert in_python and len(in_python) < n


def test_the_control_screen_reads_in_a_constant_number_of_queries(day_of_contracts, make_contract, client, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_operator

    make_operator(client, is_superuser=True)
    settings.SMARTOA_NOW = BEFORE

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/backoffice/", {"day": DAY.isoformat()}).status_code == 200
        return len(captured)

    few = queries()
    for n in range(10, 40):  # thirty more contracts, published and acknowledged or not
        contract = make_contract(f"BOA{n:05d}")
        publish_day(contract, DAY)
        if n % 2:
            acknowledge(contract, DAY, moment=BEFORE)
    assert queries() == few
