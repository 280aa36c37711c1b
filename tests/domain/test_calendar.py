import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartoa.domain.calendar import (
    PARIS,
    STEP_5,
    STEP_15,
    day_bounds,
    day_length,
    has_local_offset,
    iso,
    local_day_of,
    parse_day,
    parse_instant,
    step_count,
    step_index,
    steps,
)

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


def last_sunday(year: int, month: int) -> date:
    d = date(year, month, 31)
    return d - timedelta(days=(d.weekday() + 1) % 7)


@pytest.mark.parametrize(
    ("day", "hours", "steps5", "steps15"),
    [(date(2026, 3, 29), 23, 276, 92), (date(2026, 10, 25), 25, 300, 100), (date(2025, 9, 22), 24, 288, 96)],
)
def test_dst_days(day, hours, steps5, steps15):
    assert day_length(day) == timedelta(hours=hours)
    assert step_count(day, STEP_5) == steps5
    assert step_count(day, STEP_15) == steps15
    assert len(list(steps(day, STEP_15))) == steps15


def test_spring_forward_offsets():
    grid = list(steps(date(2026, 3, 29), STEP_15))
    assert iso(grid[0]) == "2026-03-29T00:00:00+01:00"
    assert iso(grid[7]) == "2026-03-29T01:45:00+01:00"
    assert iso(grid[8]) == "2026-03-29T03:00:00+02:00"  # 02:00-03:00 does not exist
    assert iso(grid[-1]) == "2026-03-29T23:45:00+02:00"


def test_fall_back_repeats_the_hour_with_both_offsets():
    grid = [iso(t) for t in steps(date(2026, 10, 25), STEP_15)]
    assert "2026-10-25T02:00:00+02:00" in grid and "2026-10-25T02:00:00+01:00" in grid
    assert grid.index("2026-10-25T02:00:00+01:00") - grid.index("2026-10-25T02:00:00+02:00") == 4
    start, end = day_bounds(date(2026, 10, 25))
    assert iso(start) == "2026-10-25T00:00:00+02:00" and iso(end) == "2026-10-26T00:00:00+01:00"


@given(days)
def test_day_length_is_24h_except_on_the_two_change_days(day):
    expected = 24
    if day == last_sunday(day.year, 3):
        expected = 23
    elif day == last_sunday(day.year, 10):
        expected = 25
    assert day_length(day) == timedelta(hours=expected)


@given(days, st.sampled_from([STEP_5, STEP_15]))
def test_steps_tile_the_day_with_local_offsets(day, step):
    start, end = day_bounds(day)
    grid = list(steps(day, step))
    assert len(grid) == step_count(day, step) == day_length(day) // step
    assert grid[0] == start and grid[-1] + step == end
    for before, after in itertools.pairwise(grid):
        assert after.astimezone(UTC) - before.astimezone(UTC) == step
    assert all(has_local_offset(t) and t.tzinfo is PARIS and local_day_of(t) == day for t in grid)
    assert [step_index(day, t, step) for t in grid[:3]] == [0, 1, 2]


@given(days)
def test_consecutive_days_touch(day):
    assert day_bounds(day)[1] == day_bounds(day + timedelta(days=1))[0]


def test_offsets_are_checked_per_instant():
    assert has_local_offset(parse_instant("2026-07-01T12:00:00+02:00"))
    assert not has_local_offset(parse_instant("2026-07-01T12:00:00+01:00"))
    assert not has_local_offset(datetime(2026, 1, 1, 12, tzinfo=UTC))


def test_step_index_refuses_off_grid_and_outside():
    day = date(2026, 3, 29)
    with pytest.raises(ValueError, match="5-minute"):
        step_index(day, parse_instant("2026-03-29T10:02:00+02:00"))
    with pytest.raises(ValueError, match="outside"):
        step_index(day, parse_instant("2026-03-30T00:00:00+02:00"))


@pytest.mark.parametrize("text", ["2026-13-01", "2026-1-01", "", "tomorrow", None])
def test_parse_day_refuses(text):
    with pytest.raises(ValueError):
        parse_day(text)


def test_parse_instant_requires_an_offset():
    with pytest.raises(ValueError, match="offset"):
        parse_instant("2026-01-01T00:00:00")
