"""HLAR and change deadlines of delivery day D: on D−1, local time, moved by an override."""

from datetime import date, time, timedelta

import pytest

from smartoa.domain.calendar import iso, parse_instant
from smartoa.domain.deadlines import change_cutoff, default_hlar, hlar, is_open, local_time_on

DEFAULT = time(16, 30)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 9, 22), "2025-09-21T16:30:00+02:00"),
        (date(2026, 3, 29), "2026-03-28T16:30:00+01:00"),  # D is the 23-hour day; D−1 is still winter time
        (date(2026, 3, 30), "2026-03-29T16:30:00+02:00"),
        (date(2026, 10, 25), "2026-10-24T16:30:00+02:00"),
        (date(2026, 10, 26), "2026-10-25T16:30:00+01:00"),
    ],
)
def test_default_hlar_is_on_the_day_before(day, expected):
    assert iso(default_hlar(day, DEFAULT)) == expected
    assert iso(change_cutoff(hlar(day, DEFAULT), 30)) == expected.replace("16:30", "16:00")


def test_override_wins_and_moves_the_cutoff():
    override = parse_instant("2025-09-21T17:15:00+02:00")
    assert hlar(date(2025, 9, 22), DEFAULT, override) == override
    assert iso(change_cutoff(override, 30)) == "2025-09-21T16:45:00+02:00"


def test_deadline_is_strict():
    deadline = parse_instant("2025-09-21T16:30:00+02:00")
    assert is_open(deadline - timedelta(seconds=1), deadline)
    assert not is_open(deadline, deadline)


def test_nonexistent_local_time_is_refused():
    with pytest.raises(ValueError, match="02:30 does not exist on 2026-03-29"):
        local_time_on(date(2026, 3, 29), time(2, 30))
    assert iso(local_time_on(date(2026, 10, 25), time(2, 30))) == "2026-10-25T02:30:00+02:00"
