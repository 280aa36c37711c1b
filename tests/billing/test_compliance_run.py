"""The monthly compliance run over stored consignes and curves."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from smartoa.billing.models import ComplianceRun, ContractMonth, EpisodeResult
from smartoa.billing.services import run_compliance, stale_contracts
from tests.factories import at

SEED = date(2025, 9, 22)
SEPT = date(2025, 9, 1)


@pytest.fixture
def seed_case(make_contract, make_consigne, load_curves):
    """The seed example: stop 11:55–18:00 on 22/09/2025, and one step at 12:00 producing 0.4 kWh."""
    contract = make_contract("BOAXXXXX")
    make_consigne(contract, SEED, [(at(SEED, 11, 55), at(SEED, 18), 1.0)])
    make_consigne(contract, date(2025, 9, 21))
    load_curves("BOAXXXXX", date(2025, 9, 21), date(2025, 9, 23), overrides={at(SEED, 12): 0.4})
    return contract


def test_one_breaching_step_at_noon(seed_case):
    run = run_compliance(SEPT, actor="test")
    month = ContractMonth.objects.get(contract=seed_case, month=SEPT)
    assert (month.episodes, month.checked_steps, month.breach_steps, month.missing_steps) == (1, 71, 1, 0)
    assert month.energy_during_stop_kwh == pytest.approx(0.4)
    assert month.days == {"2025-09-22": {"checked": 71, "breach": 1, "missing": 0}}
    assert month.inputs["consigne_versions"] == {"2025-09-21": 1, "2025-09-22": 1}
    assert month.inputs["curve_revisions"]["2025-09-22"] == 1
    episode = EpisodeResult.objects.get(run=run)
    assert (episode.start, episode.end) == (at(SEED, 11, 55), at(SEED, 18))


def test_revision_turns_breach_into_compliance(seed_case, load_curves):
    run = run_compliance(SEPT, actor="test")
    assert stale_contracts(run) == set()
    load_curves("BOAXXXXX", SEED, value=0.0, name="correction.csv")
    assert stale_contracts(run) == {seed_case.pk}
    second = run_compliance(SEPT, actor="test")
    month = ContractMonth.objects.get(month=SEPT)
    assert month.run == second and month.breach_steps == 0 and month.checked_steps == 71
    assert month.inputs["curve_revisions"]["2025-09-22"] == 2
    assert EpisodeResult.objects.count() == 1 and ComplianceRun.objects.count() == 2


def test_missing_steps_are_counted_apart(make_contract, make_consigne, load_curves):
    contract = make_contract("BOA1")
    make_consigne(contract, SEED, [(at(SEED, 11, 55), at(SEED, 18), 1.0)])
    load_curves("BOA1", SEED, skip=[at(SEED, 15), at(SEED, 15, 5)])
    run_compliance(SEPT, actor="test")
    month = ContractMonth.objects.get()
    assert (month.checked_steps, month.breach_steps, month.missing_steps) == (71, 0, 2)


def test_no_curve_at_all_means_every_checked_step_missing(make_contract, make_consigne):
    contract = make_contract("BOA1")
    make_consigne(contract, SEED, [(at(SEED, 11, 55), at(SEED, 18), 1.0)])
    run_compliance(SEPT, actor="test")
    assert ContractMonth.objects.get().missing_steps == 71


def test_episode_across_midnight_and_month_end_belongs_to_its_start_month(make_contract, make_consigne, load_curves):
    contract = make_contract("BOA1")
    last, first = date(2025, 9, 30), date(2025, 10, 1)
    make_consigne(contract, last, [(at(last, 22), at(first, 0), 1.0)])
    make_consigne(contract, first, [(at(first, 0), at(first, 2), 1.0)])
    load_curves("BOA1", last, first, overrides={at(first, 1): 5.0})
    run_compliance(SEPT, actor="test")
    month = ContractMonth.objects.get(month=SEPT)
    assert (month.episodes, month.checked_steps, month.breach_steps) == (1, 46, 1)
    assert month.days["2025-09-30"]["checked"] == 23
    run_compliance(date(2025, 10, 1), actor="test")
    october = ContractMonth.objects.get(month=date(2025, 10, 1))
    assert october.episodes == 0 and october.checked_steps == 0


def test_dst_day(make_contract, make_consigne, load_curves):
    contract = make_contract("BOA1")
    day = date(2026, 10, 25)
    make_consigne(contract, day, [(at(day, 0), at(day, 4), 1.0)])  # 00:00–04:00 local = 5 hours
    load_curves("BOA1", day)
    run_compliance(date(2026, 10, 1), actor="test")
    assert ContractMonth.objects.get().checked_steps == 60 - 2


def test_command(seed_case):
    call_command("compliance", "run", "--month", "2025-09")
    assert ContractMonth.objects.get().breach_steps == 1
    with pytest.raises(CommandError, match="not a month"):
        call_command("compliance", "run", "--month", "2025-9")
    with pytest.raises(CommandError, match="no consigne"):
        call_command("compliance", "run", "--month", "2024-01")
