import json
from datetime import date

import pytest

from smartoa.domain.calendar import parse_instant
from smartoa.domain.schedule import ScheduleError, parse_document, render_document

SEED = {
    "id": "BOAXXXXX",
    "update_date": "2025-09-21T12:55:05+02:00",
    "application_date": "2025-09-22",
    "data": [
        {"start_date": "2025-09-22T00:00:00+02:00", "end_date": "2025-09-22T11:55:00+02:00", "value": 0.0},
        {"start_date": "2025-09-22T11:55:00+02:00", "end_date": "2025-09-22T18:00:00+02:00", "value": 1.0},
        {"start_date": "2025-09-22T18:00:00+02:00", "end_date": "2025-09-23T00:00:00+02:00", "value": 0.0},
    ],
}


def doc(day: str, *periods, cid="BOAXXXXX"):
    return {
        "id": cid,
        "application_date": day,
        "data": [{"start_date": s, "end_date": e, "value": v} for s, e, v in periods],
    }


def test_seed_round_trip():
    parsed = parse_document(SEED)
    assert parsed.delivery_day == date(2025, 9, 22) and parsed.has_stop
    rendered = render_document("BOAXXXXX", parse_instant(SEED["update_date"]), parsed.delivery_day, parsed.periods)
    assert json.loads(rendered) == SEED
    assert list(json.loads(rendered)) == ["id", "update_date", "application_date", "data"]
    assert b'"value": 0.0' in rendered and b'"value": 1.0' in rendered


def test_spring_forward_day_of_23_hours():
    d = doc(
        "2026-03-29",
        ("2026-03-29T00:00:00+01:00", "2026-03-29T11:55:00+02:00", 0.0),
        ("2026-03-29T11:55:00+02:00", "2026-03-29T18:00:00+02:00", 1.0),
        ("2026-03-29T18:00:00+02:00", "2026-03-30T00:00:00+02:00", 0.0),
    )
    parsed = parse_document(d)
    assert sum((p.end - p.start).total_seconds() for p in parsed.periods) == 23 * 3600


def test_fall_back_day_with_a_stop_across_the_repeated_hour():
    d = doc(
        "2026-10-25",
        ("2026-10-25T00:00:00+02:00", "2026-10-25T02:30:00+02:00", 0.0),
        ("2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", 1.0),
        ("2026-10-25T02:30:00+01:00", "2026-10-26T00:00:00+01:00", 0.0),
    )
    parsed = parse_document(d)
    assert sum((p.end - p.start).total_seconds() for p in parsed.periods) == 25 * 3600
    assert (parsed.periods[1].end - parsed.periods[1].start).total_seconds() == 3600


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        (
            (
                ("2025-09-22T00:00:00+02:00", "2025-09-22T10:00:00+02:00", 0.0),
                ("2025-09-22T10:05:00+02:00", "2025-09-23T00:00:00+02:00", 1.0),
            ),
            "gap before period 2",
        ),
        (
            (
                ("2025-09-22T00:00:00+02:00", "2025-09-22T10:00:00+02:00", 0.0),
                ("2025-09-22T09:55:00+02:00", "2025-09-23T00:00:00+02:00", 1.0),
            ),
            "overlaps",
        ),
        ((("2025-09-22T00:00:00+01:00", "2025-09-23T00:00:00+02:00", 0.0),), "wrong offset"),
        (
            (
                ("2025-09-22T00:00:00+02:00", "2025-09-22T10:02:00+02:00", 0.0),
                ("2025-09-22T10:02:00+02:00", "2025-09-23T00:00:00+02:00", 1.0),
            ),
            "5-minute boundary",
        ),
        ((("2025-09-22T00:00:00+02:00", "2025-09-23T00:00:00+02:00", 0.5),), "not allowed"),
        ((("2025-09-22T00:00:00+02:00", "2025-09-23T00:00:00+02:00", "1.0"),), "must be a number"),
        ((("2025-09-22T00:00:00+02:00", "2025-09-23T00:00:00+02:00", True),), "must be a number"),
        ((("2025-09-22T01:00:00+02:00", "2025-09-23T00:00:00+02:00", 0.0),), "first period starts"),
        ((("2025-09-22T00:00:00+02:00", "2025-09-22T23:00:00+02:00", 0.0),), "last period ends"),
        ((("2025-09-22T12:00:00+02:00", "2025-09-22T11:00:00+02:00", 0.0),), "not after"),
        ((), "empty"),
        ((("2025-09-22T00:00:00", "2025-09-23T00:00:00+02:00", 0.0),), "no UTC offset"),
    ],
)
def test_rejected_documents(periods, message):
    with pytest.raises(ScheduleError, match=message):
        parse_document(doc("2025-09-22", *periods))


def test_24_hour_document_on_a_23_hour_day_is_refused():
    with pytest.raises(ScheduleError, match="lasts 23 hours"):
        parse_document(doc("2026-03-29", ("2026-03-29T00:00:00+01:00", "2026-03-30T01:00:00+02:00", 0.0)))


@pytest.mark.parametrize(
    "raw",
    [
        [],
        "x",
        {"id": "BOA1"},
        {"id": "BOA1", "application_date": "2025-02-30"},
        {"id": "BOA1", "application_date": "2025-09-22", "data": {}},
        {"id": "BOA1", "application_date": "2025-09-22", "data": [{"value": 1.0}]},
    ],
)
def test_malformed_documents(raw):
    with pytest.raises(ScheduleError):
        parse_document(raw)


def test_fractions_only_when_allowed():
    d = doc("2025-09-22", ("2025-09-22T00:00:00+02:00", "2025-09-23T00:00:00+02:00", 0.4))
    assert parse_document(d, allow_fractions=True).periods[0].value == 0.4
    with pytest.raises(ScheduleError, match="outside"):
        parse_document(
            doc("2025-09-22", ("2025-09-22T00:00:00+02:00", "2025-09-23T00:00:00+02:00", 1.5)), allow_fractions=True
        )
