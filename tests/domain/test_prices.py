"""Price files: exactly the day's quarter-hours, each once; refusals name the line."""

from datetime import date

import pytest

from smartoa.domain.calendar import STEP_15, iso, steps
from smartoa.domain.prices import PriceFileError, parse_prices

DAY = date(2025, 9, 22)


def price_csv(day, price=lambda n: 10.0, drop=(), extra=()):
    lines = ["start,price"]
    for n, moment in enumerate(steps(day, STEP_15)):
        if n not in drop:
            lines.append(f"{iso(moment)},{price(n)}")
    lines.extend(extra)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("day", "count"), [(DAY, 96), (date(2026, 3, 29), 92), (date(2026, 10, 25), 100)])
def test_whole_day_is_read_in_time_order(day, count):
    prices = parse_prices(price_csv(day, price=lambda n: n - 0.5), day)
    assert len(prices) == count
    assert prices[0] == -0.5 and prices[-1] == count - 1.5


def test_lines_in_any_order_and_utc_offsets_are_accepted():
    text = price_csv(DAY, price=lambda n: n)
    header, *rows = text.strip().splitlines()
    rows.reverse()
    rows[0] = "2025-09-22T21:45:00+00:00,95"  # 23:45+02:00 written in UTC
    prices = parse_prices("\n".join([header, *rows]), DAY)
    assert prices[95] == 95.0 and prices[0] == 0.0


def test_missing_quarter_hour_is_named():
    with pytest.raises(PriceFileError, match=r"missing quarter-hour 2025-09-22T12:15:00\+02:00"):
        parse_prices(price_csv(DAY, drop={49}), DAY)


def test_duplicate_names_both_lines():
    text = price_csv(DAY, extra=["2025-09-22T12:00:00+02:00,3"])
    with pytest.raises(PriceFileError, match=r"line 98: 2025-09-22T12:00:00\+02:00 is a duplicate of line 50"):
        parse_prices(text, DAY)


def test_misaligned_quarter_hour_is_named():
    text = price_csv(DAY, drop={10}, extra=["2025-09-22T02:35:00+02:00,3"])
    with pytest.raises(PriceFileError) as refused:
        parse_prices(text, DAY)
    assert "line 97: 2025-09-22T02:35:00+02:00 is not the start of a quarter-hour" in str(refused.value)
    assert "missing quarter-hour 2025-09-22T02:30:00+02:00" in str(refused.value)


@pytest.mark.parametrize("moment", ["2025-09-21T23:45:00+02:00", "2025-09-23T00:00:00+02:00"])
def test_out_of_day_quarter_hour_is_named(moment):
    with pytest.raises(PriceFileError, match=rf"line 98: {moment[:19]}.* is outside the day 2025-09-22"):
        parse_prices(price_csv(DAY, extra=[f"{moment},1"]), DAY)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("2025-09-22T00:00:00,1", "has no UTC offset"),
        ("yesterday,1", "is not an ISO 8601 date-time"),
        ("2025-09-22T00:00:00+02:00,cheap", "price 'cheap' is not a number"),
        ("2025-09-22T00:00:00+02:00,nan", "is not a finite number"),
        ("2025-09-22T00:00:00+02:00,1,2", "expected 2 columns"),
    ],
)
def test_bad_line_is_named(row, problem):
    text = price_csv(DAY, drop={0}, extra=[row])
    with pytest.raises(PriceFileError, match=f"line 97: .*{problem}"):
        parse_prices(text, DAY)


def test_header_is_required():
    with pytest.raises(PriceFileError, match="line 1: the header must be 'start,price'"):
        parse_prices(price_csv(DAY).replace("start,price", "time,value"), DAY)


def test_a_96_line_file_is_refused_on_a_100_quarter_hour_day():
    """25 October 2026 lasts 25 hours: a file without the repeated hour (+01:00) misses four quarter-hours."""
    day = date(2026, 10, 25)
    text = price_csv(day, drop=range(12, 16))
    assert len(text.strip().splitlines()) == 1 + 96
    with pytest.raises(PriceFileError) as refused:
        parse_prices(text, day)
    assert "(100 quarter-hours expected)" in str(refused.value)
    assert "missing quarter-hour 2026-10-25T02:00:00+01:00" in str(refused.value)
    assert "missing quarter-hour 2026-10-25T02:45:00+01:00" in str(refused.value)
    assert "+02:00" not in str(refused.value).split("expected)")[1]
