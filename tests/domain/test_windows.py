"""Stop windows as an operator writes them: Paris clock times on the 5-minute grid (24:00, the repeated and the
missing hour of the clock changes), the day's schedule they make, and the difference between two versions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from smartoa.domain.calendar import day_bounds
from smartoa.domain.errors import InvalidInput
from smartoa.domain.schedule import Period, validate_periods
from smartoa.domain.windows import Window, clock_text, parse_clock, schedule_of, window_changes, windows_of
from tests.factories import paris

DAY = date(2026, 11, 25)
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)  # 23 and 25 hours


def w(day: date, start: str, end: str, value: float = 1.0) -> Window:
    return Window(parse_clock(day, start), parse_clock(day, end), value)


def as_json(periods) -> list[dict]:
    return [p.as_json() for p in periods]


def test_clock_times_read_and_written_back():
    assert parse_clock(DAY, "11:55") == paris("2026-11-25", "11:55")
    assert parse_clock(DAY, " 7:05 ") == paris("2026-11-25", "07:05")
    assert parse_clock(DAY, "00:00") == day_bounds(DAY)[0]
    assert parse_clock(DAY, "24:00") == day_bounds(DAY)[1]
    assert clock_text(DAY, day_bounds(DAY)[1]) == "24:00"
    assert clock_text(DAY, paris("2026-11-25", "07:05")) == "07:05"


@pytest.mark.parametrize(
    ("day", "text", "message"),
    [
        (DAY, "11:57", "11:57 is not on the 5-minute grid (:00, :05 … :55)"),
        (DAY, "25:00", "'25:00' is not a time HH:MM"),
        (DAY, "11:60", "'11:60' is not a time HH:MM"),
        (DAY, "midi", "'midi' is not a time HH:MM"),
        (DAY, "", "'' is not a time HH:MM"),
        (DAY, "11:00+01:30", "11:00+01:30 does not exist on 2026-11-25"),
        (SPRING, "02:30", "02:30 does not exist on 2026-03-29 (clocks go forward)"),
        (
            AUTUMN,
            "02:30",
            (
                "02:30 happens twice on 2026-10-25 (clocks go back): write 02:30+02:00 for the first, 02:30+01:00 "
                "for the second"
            ),
        ),
    ],
)
def test_clock_refusals(day, text, message):
    with pytest.raises(InvalidInput) as refused:
        parse_clock(day, text)
    assert str(refused.value) == message


def test_the_repeated_hour_of_the_autumn_change_is_written_with_its_offset():
    first, second = parse_clock(AUTUMN, "02:30+02:00"), parse_clock(AUTUMN, "02:30+01:00")
    assert second - first == timedelta(0) or (second.timestamp() - first.timestamp()) == 3600
    assert (clock_text(AUTUMN, first), clock_text(AUTUMN, second)) == ("02:30+02:00", "02:30+01:00")
    assert clock_text(AUTUMN, parse_clock(AUTUMN, "03:00")) == "03:00"  # after the change: one 03:00
    assert parse_clock(AUTUMN, clock_text(AUTUMN, second)) == second


@pytest.mark.parametrize("day", [DAY, SPRING, AUTUMN], ids=["24h", "23h", "25h"])
def test_windows_make_a_whole_valid_day(day):
    periods = schedule_of(day, [w(day, "18:00", "24:00"), w(day, "00:00", "01:30"), w(day, "11:55", "12:30")])
    validate_periods(day, list(periods))  # covers the whole day, contiguous, on the grid
    assert [(p.value) for p in periods] == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert windows_of(periods) == [w(day, "00:00", "01:30"), w(day, "11:55", "12:30"), w(day, "18:00", "24:00")]


def test_windows_across_the_repeated_hour():
    periods = schedule_of(AUTUMN, [w(AUTUMN, "02:30+02:00", "02:30+01:00")])
    assert as_json(periods)[1] == {
        "start_date": "2026-10-25T02:30:00+02:00",
        "end_date": "2026-10-25T02:30:00+01:00",
        "value": 1.0,
    }


def test_no_window_is_a_day_without_stop_and_touching_windows_merge():
    assert as_json(schedule_of(DAY, [])) == as_json((Period(*day_bounds(DAY), 0.0),))
    merged = schedule_of(DAY, [w(DAY, "10:00", "11:00"), w(DAY, "11:00", "12:00")])
    assert windows_of(merged) == [w(DAY, "10:00", "12:00")]


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ([("12:00", "11:00")], "window 1: its end 2026-11-25T11:00:00+01:00 is not after its start"),
        ([("12:00", "12:00")], "window 1: its end 2026-11-25T12:00:00+01:00 is not after its start"),
        (
            [("08:00", "09:00"), ("10:00", "12:00"), ("11:30", "13:00")],
            "windows 2 and 3 overlap from 2026-11-25T11:30:00+01:00 to 2026-11-25T12:00:00+01:00",
        ),
        ([("10:00", "12:00"), ("09:00", "24:00")], "windows 1 and 2 overlap from 2026-11-25T10:00:00+01:00"),
    ],
)
def test_schedule_refusals(windows, message):
    with pytest.raises(InvalidInput) as refused:
        schedule_of(DAY, [w(DAY, a, b) for a, b in windows])
    assert message in str(refused.value)


def test_windows_outside_the_day_off_the_grid_or_with_a_fraction_are_refused():
    with pytest.raises(InvalidInput, match="window 1 is outside the delivery day 2026-11-25"):
        schedule_of(DAY, [Window(paris("2026-11-24", "23:00"), paris("2026-11-25", "01:00"))])
    with pytest.raises(InvalidInput, match="window 1 is not on the 5-minute grid"):
        schedule_of(DAY, [Window(paris("2026-11-25", "10:02"), paris("2026-11-25", "11:00"))])
    with pytest.raises(InvalidInput, match=r"value 0\.5 is not allowed"):
        schedule_of(DAY, [w(DAY, "10:00", "11:00", 0.5)])
    limited = schedule_of(DAY, [w(DAY, "10:00", "11:00", 0.5)], allow_fractions=True)
    assert windows_of(limited) == [w(DAY, "10:00", "11:00", 0.5)]


def test_changes_between_two_versions():
    before = [w(DAY, "08:00", "09:00"), w(DAY, "11:55", "18:00"), w(DAY, "20:00", "21:00")]
    after = [w(DAY, "08:00", "09:00"), w(DAY, "12:30", "17:00"), w(DAY, "22:00", "23:00"), w(DAY, "23:30", "24:00")]
    changes = window_changes(before, after)
    assert [(c.kind, c.before, c.after) for c in changes] == [
        ("moved", before[1], after[1]),  # overlapping: the same window, moved
        ("removed", before[2], None),
        ("added", None, after[2]),
        ("added", None, after[3]),
    ]
    assert window_changes(before, before) == []
    one = window_changes([w(DAY, "08:00", "09:00")], [w(DAY, "15:00", "16:00")])
    assert [c.kind for c in one] == ["moved"]  # the only one left facing the only one left
