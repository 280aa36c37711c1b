"""GET /api/v1/effacements?start&end: the current version of each published day in a bounded range."""

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.factories import modify_day, paris, publish_day, stop_periods

SEED = (Path(__file__).parent.parent / "data" / "seed_effacement.json").read_text()


@pytest.fixture
def caller(make_contract, issue_token, settings):
    settings.SMARTOA_NOW = paris("2025-09-20", "12:55")
    contract = make_contract("BOAXXXXX")
    for offset in range(3):  # 2025-09-21, 22, 23
        publish_day(contract, date(2025, 9, 21) + timedelta(days=offset))
    return contract, {"Authorization": f"Bearer {issue_token(contract)}"}


def history(wsgi, headers, start, end):
    return wsgi("GET", "/api/v1/effacements", headers=headers, query=f"start={start}&end={end}")


def test_range_is_inclusive_and_shows_the_current_version(caller, wsgi, settings):
    contract, headers = caller
    settings.SMARTOA_NOW = paris("2025-09-21", "15:00")
    modify_day(contract, date(2025, 9, 22), stop_periods(date(2025, 9, 22), "13:55", "18:00"))
    response = history(wsgi, headers, "2025-09-22", "2025-09-25")
    assert response.status == 200 and response.headers["content-type"] == "application/json"
    documents = response.json()
    assert [d["application_date"] for d in documents] == ["2025-09-22", "2025-09-23"]
    assert documents[0]["data"][1]["start_date"] == "2025-09-22T13:55:00+02:00"
    assert list(documents[0]) == ["id", "update_date", "application_date", "data"]
    assert documents[1]["data"][0]["value"] == 0.0 and "0.0" in response.body.decode()


def test_one_day_is_the_seed_format(caller, wsgi, settings):
    response = history(wsgi, caller[1], "2025-09-22", "2025-09-22")
    document = response.json()[0]
    seed = json.loads(SEED)
    assert document["data"] == seed["data"] and document["id"] == seed["id"]


def test_empty_range_is_an_empty_list(caller, wsgi):
    response = history(wsgi, caller[1], "2024-01-01", "2024-01-31")
    assert response.status == 200 and response.json() == []


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2025-09-23", "2025-09-21", "end must not be before start"),
        ("2025-01-01", "2026-01-02", "at most 366"),
        ("2025-09-xx", "2025-09-21", "start: "),
        ("2025-09-21", "", "end: "),
    ],
)
def test_bad_range_is_422(caller, wsgi, start, end, message):
    response = history(wsgi, caller[1], start, end)
    assert response.status == 422 and response.json()["error"] == "invalid_input"
    assert message in response.json()["message"]


def test_missing_parameters_are_422(caller, wsgi):
    response = wsgi("GET", "/api/v1/effacements", headers=caller[1])
    assert response.status == 422 and response.json()["error"] == "invalid_input"


def test_bound_follows_the_setting(caller, wsgi, settings):
    settings.SMARTOA_HISTORY_MAX_DAYS = 2
    assert history(wsgi, caller[1], "2025-09-21", "2025-09-22").status == 200
    assert history(wsgi, caller[1], "2025-09-21", "2025-09-23").status == 422


def test_only_the_calling_contract(caller, make_contract, issue_token, wsgi):
    other = {"Authorization": f"Bearer {issue_token(make_contract('BOA00002'))}"}
    assert history(wsgi, other, "2025-09-21", "2025-09-23").json() == []
