"""Strict validation of the documents the server sends: what a plant controller must not act on is refused with a
message naming the fault; well-formed days, DST days each way included, are accepted."""

from __future__ import annotations

import json
from datetime import date

import pytest

from smartoa_client.documents import InvalidDocument, canonical_hash, parse_document

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


def doc(day: str, periods: list[tuple[str, str, float]], update: str = "2026-03-27T12:00:00+01:00") -> dict:
    return {
        "id": "BOA00001",
        "update_date": update,
        "application_date": day,
        "data": [{"start_date": a, "end_date": b, "value": v} for a, b, v in periods],
    }


def refused(document: dict, **kwargs) -> str:
    with pytest.raises(InvalidDocument) as caught:
        parse_document(json.dumps(document).encode(), **kwargs)
    return str(caught.value)


def test_the_seed_document_is_accepted_and_typed():
    consigne = parse_document(json.dumps(SEED).encode(), "BOAXXXXX", date(2025, 9, 22))
    assert consigne.application_date == date(2025, 9, 22)
    assert [p.value for p in consigne.data] == [0.0, 1.0, 0.0]
    assert [p.start_date.isoformat() for p in consigne.stops()] == ["2025-09-22T11:55:00+02:00"]


def test_the_spring_forward_day_of_23_hours_is_accepted():
    consigne = parse_document(
        doc(
            "2026-03-29",
            [
                ("2026-03-29T00:00:00+01:00", "2026-03-29T03:00:00+02:00", 0.0),
                ("2026-03-29T03:00:00+02:00", "2026-03-30T00:00:00+02:00", 1.0),
            ],
        )
    )
    assert consigne.data[1].stop


def test_the_fall_back_day_of_25_hours_is_accepted_with_both_offsets_of_the_repeated_hour():
    consigne = parse_document(
        doc(
            "2026-10-25",
            [
                ("2026-10-25T00:00:00+02:00", "2026-10-25T02:30:00+02:00", 0.0),
                ("2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", 1.0),  # the first 02:30 to the second
                ("2026-10-25T02:30:00+01:00", "2026-10-26T00:00:00+01:00", 0.0),
            ],
            update="2026-10-24T12:00:00+02:00",
        )
    )
    assert (consigne.data[1].end_date - consigne.data[1].start_date).total_seconds() == 3600


def test_a_gap_is_refused_with_where_it_is():
    message = refused(
        doc(
            "2026-03-27",
            [
                ("2026-03-27T00:00:00+01:00", "2026-03-27T10:00:00+01:00", 0.0),
                ("2026-03-27T10:05:00+01:00", "2026-03-28T00:00:00+01:00", 0.0),
            ],
        )
    )
    assert "gap between data[0] ending 2026-03-27T10:00:00+01:00 and data[1] starting 2026-03-27T10:05:00+01:00" in (
        message
    )


def test_an_overlap_is_refused():
    message = refused(
        doc(
            "2026-03-27",
            [
                ("2026-03-27T00:00:00+01:00", "2026-03-27T10:00:00+01:00", 0.0),
                ("2026-03-27T09:00:00+01:00", "2026-03-28T00:00:00+01:00", 1.0),
            ],
        )
    )
    assert "overlap: data[1] starts" in message


def test_a_wrong_offset_is_refused_naming_paris_s_offset_at_that_instant():
    # Summer time in July: +01:00 is wrong even though it designates a real instant.
    message = refused(
        doc(
            "2026-07-14",
            [
                ("2026-07-14T00:00:00+02:00", "2026-07-14T12:00:00+01:00", 0.0),
                ("2026-07-14T12:00:00+01:00", "2026-07-15T00:00:00+02:00", 1.0),
            ],
            update="2026-07-13T12:00:00+02:00",
        )
    )
    assert "data[0].end_date 2026-07-14T12:00:00+01:00 has offset +01:00 but Europe/Paris is at +02:00" in message


def test_a_24_hour_document_on_the_23_hour_day_is_refused_as_a_wrong_day_length():
    message = refused(
        doc(
            "2026-03-29",
            [("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+01:00", 0.0)],
        )
    )
    assert "the periods cover 24 h but the local day 2026-03-29 lasts 23 h in Europe/Paris" in message
    assert "has offset +01:00 but Europe/Paris is at +02:00" in message


def test_a_24_hour_document_on_the_25_hour_day_is_refused():
    message = refused(
        doc(
            "2026-10-25",
            [("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+02:00", 0.0)],
            update="2026-10-24T12:00:00+02:00",
        )
    )
    assert "cover 24 h but the local day 2026-10-25 lasts 25 h" in message


def test_values_other_than_zero_or_one_are_refused():
    message = refused(
        doc("2026-03-27", [("2026-03-27T00:00:00+01:00", "2026-03-28T00:00:00+01:00", 0.5)]),
    )
    assert "data.0.value: value must be 0.0 or 1.0, got 0.5" in message
    bad = doc("2026-03-27", [("2026-03-27T00:00:00+01:00", "2026-03-28T00:00:00+01:00", 0.0)])
    bad["data"][0]["value"] = "1"
    assert "value must be 0.0 or 1.0, got '1'" in refused(bad)


def test_a_timestamp_without_offset_is_refused():
    message = refused(doc("2026-03-27", [("2026-03-27T00:00:00", "2026-03-28T00:00:00+01:00", 0.0)]))
    assert "has no UTC offset" in message


def test_the_expected_contract_and_day_are_checked():
    message = refused(SEED, contract="BOA00009", day=date(2025, 9, 23))
    assert "the document is for contract BOAXXXXX, expected BOA00009" in message
    assert "application_date is 2025-09-22, expected 2025-09-23" in message


def test_a_day_not_starting_at_midnight_and_unknown_fields_are_refused():
    message = refused(doc("2026-03-27", [("2026-03-27T01:00:00+01:00", "2026-03-28T00:00:00+01:00", 0.0)]))
    assert "the first period starts 2026-03-27T01:00:00+01:00, not at the day's start 2026-03-27T00:00:00+01:00" in (
        message
    )
    extra = dict(SEED, surprise=1)
    assert "surprise: Extra inputs are not permitted" in refused(extra)
    with pytest.raises(InvalidDocument, match="not JSON"):
        parse_document(b"{nope")


def test_the_content_hash_ignores_formatting():
    assert canonical_hash(json.dumps(SEED).encode()) == canonical_hash(json.dumps(SEED, indent=2).encode())
