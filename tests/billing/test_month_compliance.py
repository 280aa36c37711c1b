"""A contract's stored compliance of a month as its history reads it (``billing.queries``): per-day figures on the
daylight-saving months, totals, staleness, the compensation's reason as a code; a constant number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from smartoa.billing import compensation
from smartoa.billing.queries import Compensation, DayCompliance, compensation_of, month_compliance
from smartoa.billing.services import run_compliance
from tests.factories import at, clock, load_curves, make_consigne, make_contract

MARCH, OCTOBER = date(2026, 3, 1), date(2026, 10, 1)


def test_no_run_and_a_run_without_the_contract(db):
    contract, other = make_contract("BOA00001"), make_contract("BOA00002")
    assert month_compliance(contract.pk, MARCH) == (None, None)
    make_consigne(other, date(2026, 3, 10))
    run = run_compliance(MARCH, actor="test")
    assert month_compliance(contract.pk, MARCH) == (run, None)
    assert month_compliance(other.pk, MARCH)[1] is not None


@pytest.mark.parametrize(
    ("first", "change", "checked"), [(MARCH, date(2026, 3, 29), 34), (OCTOBER, date(2026, 10, 25), 58)]
)
def test_per_day_figures_on_the_daylight_saving_months(
    db, settings, django_assert_max_num_queries, first, change, checked
):
    """A stop 01:00–05:00 each day: 46 checked steps on a 24-hour day, 34 on the 23-hour day, 58 on the
    25-hour one. A breach on the change day, a missing step the day after."""
    contract = make_contract("BOA00001")
    before, after = change - timedelta(days=1), change + timedelta(days=1)
    for day in (before, change, after):
        make_consigne(contract, day, [(at(day, 1), at(day, 5), 1.0)], moment=at(before - timedelta(days=5), 9))
    with clock(at(before - timedelta(days=4), 9)):  # early, so that a change can still be made after the run
        load_curves("BOA00001", before, after, overrides={at(change, 4): 0.5}, skip=[at(after, 2)])
    with clock(at(before - timedelta(days=3), 9)):
        run = run_compliance(first, actor="test")
    settings.SMARTOA_NOW = at(first + timedelta(days=40), 10)
    with django_assert_max_num_queries(5):
        found_run, result = month_compliance(contract.pk, first)
    assert found_run == run and result is not None and result.run == run and not result.stale
    assert result.days == {
        before: DayCompliance(46, 0, 0),
        change: DayCompliance(checked, 1, 0),
        after: DayCompliance(46, 0, 1),
    }
    assert result.versions == {before: 1, change: 1, after: 1}
    assert (result.episodes, result.checked_steps, result.breach_steps, result.missing_steps) == (
        3,
        46 + checked + 46,
        1,
        1,
    )
    assert result.energy_during_stop_kwh == 0.5 and result.excess_kwh == 0.5
    assert result.compensation == Compensation(False, None, "no_inputs")
    make_consigne(contract, change, [(at(change, 1), at(change, 6), 1.0)])  # a version published after the run
    assert month_compliance(contract.pk, first)[1].stale


def _steps(n: int = 3) -> compensation.StopSteps:
    return compensation.StopSteps(value=np.ones(n), checked=np.ones(n, dtype=bool), breach=np.zeros(n, dtype=bool))


def test_compensation_reasons_become_codes():
    rule = compensation.DEFAULT_RULE
    inputs = compensation.CompensationInputs
    price = Decimal(50)
    cases = [
        (compensation.compute(None, None, None), Compensation(False, None, "no_inputs")),
        (compensation.compute(rule, _steps(), inputs()), Compensation(False, None, "no_price")),
        (
            compensation.compute(rule, _steps(), inputs(price_eur_per_mwh=price)),
            Compensation(False, None, "no_producible"),
        ),
        (
            compensation.compute(
                rule, _steps(), inputs(price_eur_per_mwh=price, producible_kwh=np.array([1.0, np.nan, np.nan]))
            ),
            Compensation(False, None, "producible_gaps", 2),
        ),
        (compensation.compute("nope", _steps(), inputs()), Compensation(False, None, "unknown_rule")),
        (
            compensation.compute(rule, _steps(), inputs(price_eur_per_mwh=price, producible_kwh=np.full(3, 1000.0))),
            Compensation(True, 150.0, None),
        ),
    ]
    for result, expected in cases:
        assert compensation_of(result.as_json()) == expected, result
    assert compensation_of({"status": "not_computable", "reason_code": "something_new"}) == Compensation(
        False, None, "other"
    )


def test_compensations_stored_before_reason_codes_keep_their_reason():
    """Results computed before reasons had codes hold French text: read back as the same codes."""
    legacy = {
        "aucune entrée de compensation enregistrée (productible, prix)": Compensation(False, None, "no_inputs"),
        "aucun prix enregistré": Compensation(False, None, "no_price"),
        "aucune courbe de productible estimé enregistrée": Compensation(False, None, "no_producible"),
        "productible estimé absent sur 4 pas contrôlé(s)": Compensation(False, None, "producible_gaps", 4),
        "règle de compensation inconnue : 'nope'": Compensation(False, None, "unknown_rule"),
        "something new": Compensation(False, None, "other"),
    }
    for text, expected in legacy.items():
        assert compensation_of({"status": "not_computable", "amount_eur": None, "reason": text}) == expected


def test_a_reason_is_a_code_with_its_english_text_and_parameters():
    gaps = compensation.compute(
        compensation.DEFAULT_RULE,
        _steps(),
        compensation.CompensationInputs(price_eur_per_mwh=Decimal(50), producible_kwh=np.array([1.0, np.nan, np.nan])),
    ).as_json()
    assert (gaps["reason_code"], gaps["reason_params"]) == ("producible_gaps", {"gaps": 2})
    assert gaps["reason"] == "estimated producible missing on checked steps: 2"
    unknown = compensation.compute("nope", _steps(), compensation.CompensationInputs()).as_json()
    assert unknown["reason"] == "unknown compensation rule 'nope'" and unknown["reason_params"] == {"rule": "nope"}
