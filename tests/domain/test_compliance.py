"""Compliance math on hand-made curves (seed example: stop 11:55–18:00 on 22/09/2025)."""

from datetime import date, datetime

import numpy as np
import pytest

from smartoa.domain.calendar import PARIS
from smartoa.domain.compliance import evaluate, installed_step_kwh, per_day, tolerance_per_step
from smartoa.domain.curves import Grid, month_days, paris_offsets, parse_month, stop_spans
from smartoa.domain.schedule import Period

DAY = date(2025, 9, 22)


def at(day, hh, mm):
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=PARIS)


def paint_periods(row, grid, periods):
    for a, b, value in stop_spans(periods, grid):
        row[a:b] = value


def test_stop_spans_read_stored_periods_and_period_objects_alike():
    autumn = date(2026, 10, 25)  # 25 hours: 01:55 to 03:00 local spans the repeated hour
    grid = Grid.for_days(autumn, autumn)
    stored = [
        {"start_date": "2026-10-25T00:00:00+02:00", "end_date": "2026-10-25T01:55:00+02:00", "value": 0.0},
        {"start_date": "2026-10-25T01:55:00+02:00", "end_date": "2026-10-25T03:00:00+01:00", "value": 1.0},
        {"start_date": "2026-10-25T03:00:00+01:00", "end_date": "2026-10-26T00:00:00+01:00", "value": 0.0},
    ]
    ((a, b, value),) = stop_spans(stored, grid)
    assert (a, b - a, value) == (23, 13 + 12, 1.0)  # 01:55 is step 23; 65 minutes + the repeated hour
    assert stop_spans([Period(at(autumn, 1, 55), at(autumn, 3, 0), 1.0)], grid) == [(a, b, 1.0)]


def seed_grid():
    grid = Grid.for_days(DAY, DAY)
    stop = np.zeros((1, grid.n_steps), np.float32)
    paint_periods(stop[0], grid, [Period(at(DAY, 11, 55), at(DAY, 18, 0), 1.0)])
    return grid, stop


def run(energy, stop, power_mw=15.0, tol_kwh=0.0, tol_pct=0.0):
    step_kwh = installed_step_kwh(np.atleast_1d(power_mw))
    return evaluate(energy, stop, step_kwh, tolerance_per_step(step_kwh, tol_kwh, tol_pct))


def test_production_only_in_neutralised_steps_is_compliant():
    grid, stop = seed_grid()
    energy = np.full((1, grid.n_steps), 1250.0)  # full power all day
    energy[0, grid.step_of(at(DAY, 12, 0)) : grid.step_of(at(DAY, 17, 55))] = 0.0
    result = run(energy, stop)
    ep = result.episodes
    assert len(ep) == 1
    assert grid.instant(ep.start[0]) == at(DAY, 11, 55) and grid.instant(ep.end[0]) == at(DAY, 18, 0)
    # 11:55–18:00 is 73 steps; 11:55 and 17:55 are neutralised, 12:00 … 17:50 checked.
    assert ep.checked[0] == 71 and ep.breach[0] == 0 and ep.missing[0] == 0
    assert ep.energy_checked_kwh[0] == 0.0 and ep.energy_neutralised_kwh[0] == 2500.0
    assert result.neutralised[0, grid.step_of(at(DAY, 11, 55))] and result.neutralised[0, grid.step_of(at(DAY, 17, 55))]


def test_one_breaching_step_at_noon():
    grid, stop = seed_grid()
    energy = np.zeros((1, grid.n_steps))
    energy[0, grid.step_of(at(DAY, 12, 0))] = 0.4
    result = run(energy, stop)
    assert result.episodes.breach.tolist() == [1]
    assert np.flatnonzero(result.breach[0]).tolist() == [grid.step_of(at(DAY, 12, 0))]
    assert result.episodes.energy_checked_kwh[0] == pytest.approx(0.4)
    # A tolerance above the energy makes it compliant; a percentage of installed power too (15 MW: 1250 kWh/step).
    assert run(energy, stop, tol_kwh=0.5).episodes.breach.tolist() == [0]
    assert run(energy, stop, tol_pct=0.1).episodes.breach.tolist() == [0]  # 1.25 kWh
    assert run(energy, stop, tol_pct=0.01).episodes.breach.tolist() == [1]  # 0.125 kWh


def test_missing_step_is_never_compliant():
    grid, stop = seed_grid()
    energy = np.zeros((1, grid.n_steps))
    energy[0, grid.step_of(at(DAY, 15, 0))] = np.nan
    energy[0, grid.step_of(at(DAY, 11, 55))] = np.nan  # neutralised: not counted
    ep = run(energy, stop).episodes
    assert (ep.checked[0], ep.breach[0], ep.missing[0]) == (71, 0, 1)


def test_episode_across_midnight_is_one_episode():
    first, second = date(2025, 9, 22), date(2025, 9, 23)
    grid = Grid.for_days(first, second)
    stop = np.zeros((1, grid.n_steps), np.float32)
    paint_periods(stop[0], grid, [Period(at(first, 22, 0), at(second, 0, 0), 1.0)])
    paint_periods(stop[0], grid, [Period(at(second, 0, 0), at(second, 2, 0), 1.0)])
    energy = np.zeros((1, grid.n_steps))
    energy[0, grid.step_of(at(first, 23, 55))] = 3.0  # checked: midnight is not a boundary
    energy[0, grid.step_of(at(second, 0, 0))] = 2.0
    result = run(energy, stop)
    ep = result.episodes
    assert len(ep) == 1 and ep.checked[0] == 48 - 2 and ep.breach[0] == 2
    days = per_day(result.breach, grid.day_starts)
    assert days.tolist() == [[1, 1]]


def test_dst_days_have_their_real_number_of_steps():
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    assert Grid.for_days(spring, spring).n_steps == 276
    assert Grid.for_days(autumn, autumn).n_steps == 300
    grid = Grid.for_days(autumn, autumn)
    stop = np.zeros((1, grid.n_steps), np.float32)
    # 01:55 → 03:00 local on 25/10/2026 is 2 h 05 (the hour 02:00–03:00 happens twice): 25 steps.
    paint_periods(stop[0], grid, [Period(at(autumn, 1, 55), at(autumn, 3, 0), 1.0)])
    energy = np.zeros((1, grid.n_steps))
    ep = run(energy, stop).episodes
    assert ep.end[0] - ep.start[0] == 25 and ep.checked[0] == 23


def test_fractional_value_allows_that_share_of_installed_power():
    grid, stop = seed_grid()
    stop[stop > 0] = 0.6  # limitation to 40 % of 15 MW: 500 kWh per step allowed
    energy = np.zeros((1, grid.n_steps))
    energy[0, grid.step_of(at(DAY, 13, 0))] = 500.0
    energy[0, grid.step_of(at(DAY, 14, 0))] = 500.5
    assert run(energy, stop).episodes.breach.tolist() == [1]


def test_short_episodes_have_no_checked_step_and_edges_are_flagged():
    grid = Grid.for_days(DAY, DAY)
    stop = np.zeros((2, grid.n_steps), np.float32)
    stop[0, 10:12] = 1.0
    stop[1, :5] = 1.0
    stop[1, -3:] = 1.0
    ep = run(np.ones((2, grid.n_steps)), stop, power_mw=[1.0, 2.0]).episodes
    assert ep.row.tolist() == [0, 1, 1] and ep.checked.tolist() == [0, 3, 1]
    assert ep.open_start.tolist() == [False, True, False] and ep.open_end.tolist() == [False, False, True]


def test_month_and_offsets_helpers():
    assert parse_month("2026-03") == date(2026, 3, 1)
    with pytest.raises(ValueError):
        parse_month("2026-3")
    assert len(month_days(date(2026, 2, 1))) == 28
    grid = Grid.for_days(date(2026, 3, 1), date(2026, 3, 31))
    assert grid.n_steps == 31 * 288 - 12
    offsets = paris_offsets(grid.step_epochs())
    assert offsets[0] == 3600 and offsets[-1] == 7200
    assert (np.diff(offsets) != 0).sum() == 1
