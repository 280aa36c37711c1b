"""Consigne generation from 15-minute prices: stop windows start 5 minutes early, never before midnight."""

import json
from datetime import date
from pathlib import Path

import pytest

from smartoa.domain.calendar import STEP_15, parse_instant, step_count
from smartoa.domain.generation import describe, generate_periods, stop_windows
from smartoa.domain.schedule import render_document, validate_periods

SEED = json.loads((Path(__file__).parent.parent / "data" / "seed_effacement.json").read_text())
DAY = date(2025, 9, 22)


def prices(day, negative, *, low=-5.0, high=40.0):
    """Prices for ``day`` with the quarter-hours of ``negative`` (indexes) below zero."""
    return [low if n in negative else high for n in range(step_count(day, STEP_15))]


def spans(periods):
    return [(p.start.strftime("%H:%M%z"), p.end.strftime("%H:%M%z"), p.value) for p in periods]


def test_seed_example_is_regenerated():
    """Negative prices 12:00–18:00 → the seed's consigne 11:55–18:00, byte-identical once rendered."""
    periods = generate_periods(DAY, prices(DAY, range(48, 72)))
    validate_periods(DAY, list(periods))
    rendered = render_document("BOAXXXXX", parse_instant(SEED["update_date"]), DAY, periods)
    assert json.loads(rendered) == SEED


def test_no_negative_price_is_one_period_at_zero():
    periods = generate_periods(DAY, prices(DAY, ()))
    assert spans(periods) == [("00:00+0200", "00:00+0200", 0.0)]
    assert describe(periods) == "no stop"


def test_isolated_negative_quarter_hour():
    periods = generate_periods(DAY, prices(DAY, {56}))
    assert spans(periods) == [
        ("00:00+0200", "13:55+0200", 0.0),
        ("13:55+0200", "14:15+0200", 1.0),
        ("14:15+0200", "00:00+0200", 0.0),
    ]


def test_two_windows_fifteen_minutes_apart_stay_apart():
    """10:00–10:15 and 10:30–10:45 negative, 10:15–10:30 positive: the gap shrinks to 10 minutes at 0.0."""
    periods = generate_periods(DAY, prices(DAY, {40, 42}))
    validate_periods(DAY, list(periods))
    assert spans(periods)[1:4] == [
        ("09:55+0200", "10:15+0200", 1.0),
        ("10:15+0200", "10:25+0200", 0.0),
        ("10:25+0200", "10:45+0200", 1.0),
    ]
    assert describe(periods) == "stop 09:55–10:15, 10:25–10:45"


def test_window_at_midnight_is_not_moved_into_the_day_before():
    periods = generate_periods(DAY, prices(DAY, range(8)))
    validate_periods(DAY, list(periods))
    assert spans(periods) == [("00:00+0200", "02:00+0200", 1.0), ("02:00+0200", "00:00+0200", 0.0)]


def test_window_until_midnight():
    periods = generate_periods(DAY, prices(DAY, {95}))
    assert spans(periods)[-1] == ("23:40+0200", "00:00+0200", 1.0)
    assert describe(periods) == "stop 23:40–24:00"


def test_threshold_is_strict_and_configurable():
    day_prices = prices(DAY, ())
    day_prices[50] = 0.0
    assert not stop_windows(DAY, day_prices)
    assert len(stop_windows(DAY, day_prices, threshold=0.01)) == 1
    day_prices[50] = -0.01
    assert len(stop_windows(DAY, day_prices)) == 1


def test_spring_forward_day_has_92_quarter_hours():
    """29 March 2026: 02:00–03:00 does not exist; quarter-hour 8 starts at 03:00+02:00."""
    day = date(2026, 3, 29)
    periods = generate_periods(day, prices(day, {8, 9}))
    validate_periods(day, list(periods))
    assert spans(periods) == [
        ("00:00+0100", "01:55+0100", 0.0),
        ("01:55+0100", "03:30+0200", 1.0),
        ("03:30+0200", "00:00+0200", 0.0),
    ]


def test_fall_back_day_has_100_quarter_hours():
    """25 October 2026: 02:00–03:00 happens twice; quarter-hour 12 is the second 02:00 (+01:00)."""
    day = date(2026, 10, 25)
    periods = generate_periods(day, prices(day, {12}))
    validate_periods(day, list(periods))
    assert [(p.start.isoformat(), p.end.isoformat(), p.value) for p in periods] == [
        ("2026-10-25T00:00:00+02:00", "2026-10-25T02:55:00+02:00", 0.0),
        ("2026-10-25T02:55:00+02:00", "2026-10-25T02:15:00+01:00", 1.0),
        ("2026-10-25T02:15:00+01:00", "2026-10-26T00:00:00+01:00", 0.0),
    ]


def test_wrong_number_of_prices_is_refused():
    with pytest.raises(ValueError, match="2026-03-29 has 92 quarter-hours, 96 prices given"):
        generate_periods(date(2026, 3, 29), [1.0] * 96)
