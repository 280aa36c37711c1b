"""A contract's month of consignes as its history reads it (``consignes.queries.published_days``): several
versions of a day, an acknowledgment voided by a modification, a missed day, the daylight-saving months; three
queries whatever the number of days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from smartoa.consignes.queries import first_published_day, published_days
from smartoa.contracts.models import Contract
from smartoa.domain.acknowledgment import Status
from smartoa.domain.calendar import day_length
from smartoa.domain.curves import month_days
from smartoa.web.timeline import summary
from tests.factories import acknowledge, at, make_consigne, make_contract, paris

MARCH, OCTOBER = date(2026, 3, 1), date(2026, 10, 1)
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)  # 23 h and 25 h


@pytest.fixture
def contract(db):
    return make_contract("BOA00001")


def month(first: date) -> dict:
    days = month_days(first)
    return published_days(Contract.objects.get(contract_id="BOA00001").pk, days[0], days[-1])


def test_a_day_with_several_versions_shows_the_current_one(contract, settings):
    day = date(2026, 3, 10)
    make_consigne(contract, day, [(at(day, 9, 55), at(day, 12), 1.0)], moment=paris("2026-03-08", "10:00"))
    make_consigne(contract, day, [(at(day, 11, 55), at(day, 18), 1.0)], moment=paris("2026-03-08", "12:00"))
    make_consigne(contract, day, [(at(day, 11, 55), at(day, 17), 1.0)], moment=paris("2026-03-08", "14:00"))
    make_consigne(contract, date(2026, 3, 11), moment=paris("2026-03-09", "10:00"))  # no stop
    settings.SMARTOA_NOW = paris("2026-03-20", "10:00")
    found = month(MARCH)
    assert sorted(found) == [day, date(2026, 3, 11)]
    d = found[day]
    assert (d.version, d.versions, d.has_stop) == (3, 3, True)
    assert summary(d.periods) == "Arrêt 11:55–17:00"
    assert not found[date(2026, 3, 11)].has_stop and summary(found[date(2026, 3, 11)].periods) == "Pas d'arrêt"
    assert found[date(2026, 3, 11)].versions == 1


def test_acknowledgments_done_voided_and_missed(contract, settings):
    done, voided, missed = date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 12)
    for day in (done, voided, missed):
        make_consigne(contract, day, [(at(day, 11, 55), at(day, 18), 1.0)])
    acknowledge(contract, done, actor="producer@example.fr", moment=at(done - timedelta(days=1), 9))
    acknowledge(contract, done, actor="api:abcd1234", channel="api", moment=at(done - timedelta(days=1), 10))
    acknowledge(contract, voided, actor="producer@example.fr", moment=at(voided - timedelta(days=2), 13))
    make_consigne(
        contract, voided, [(at(voided, 12, 55), at(voided, 18), 1.0)], moment=at(voided - timedelta(days=1), 9)
    )

    settings.SMARTOA_NOW = at(voided - timedelta(days=1), 12)  # before the HLAR of the 11th
    found = month(MARCH)
    assert found[done].state.status == Status.DONE
    latest = found[done].acknowledgment
    assert (latest.version, latest.actor, latest.channel, latest.channel_label, latest.token_prefix) == (
        1,
        "api:abcd1234",
        "api",
        "API",
        "abcd1234",
    )
    assert [a.channel for a in found[done].acknowledgments] == ["portal", "api"]
    v = found[voided]
    assert v.state.status == Status.VOIDED and (v.version, v.versions) == (2, 2)
    assert v.acknowledgment is None and v.voided.version == 1 and v.voided.actor == "producer@example.fr"
    assert v.voided.channel_label == "Portail" and v.voided.token_prefix is None
    assert found[missed].state.status == Status.TO_DO

    settings.SMARTOA_NOW = paris("2026-03-20", "10:00")  # every HLAR has passed
    found = month(MARCH)
    assert found[done].state.status == Status.DONE
    assert found[voided].state.status == Status.MISSED and found[voided].voided.version == 1
    assert found[missed].state.status == Status.MISSED and found[missed].voided is None
    assert found[missed].acknowledgments == ()


@pytest.mark.parametrize(("first", "change", "hours", "steps"), [(MARCH, SPRING, 23, 36), (OCTOBER, AUTUMN, 25, 60)])
def test_daylight_saving_months(contract, settings, first, change, hours, steps):
    """A stop 01:00–05:00 on the change day lasts 3 h in March (36 steps) and 5 h in October (60 steps)."""
    for day in (change - timedelta(days=1), change, change + timedelta(days=1)):
        make_consigne(contract, day, [(at(day, 1), at(day, 5), 1.0)])
    settings.SMARTOA_NOW = at(first + timedelta(days=40), 10)
    found = month(first)
    assert len(month_days(first)) == 31 and day_length(change) == timedelta(hours=hours)
    assert sorted(found) == [change - timedelta(days=1), change, change + timedelta(days=1)]
    for day, d in found.items():
        assert summary(d.periods) == "Arrêt 01:00–05:00", day
        assert d.periods[0].start == at(day, 0) and d.periods[-1].end == at(day + timedelta(days=1), 0)
        assert d.state.status == Status.MISSED
    stop = found[change].periods[1]
    assert (stop.end.timestamp() - stop.start.timestamp()) / 300 == steps


def test_three_queries_whatever_the_number_of_days(contract, settings, django_assert_num_queries):
    for day in month_days(MARCH):
        make_consigne(contract, day, [(at(day, 11, 55), at(day, 18), 1.0)])
        acknowledge(contract, day)
    make_consigne(contract, date(2026, 3, 5), [(at(date(2026, 3, 5), 12), at(date(2026, 3, 5), 18), 1.0)])
    other = make_contract("BOA00002")
    make_consigne(other, date(2026, 3, 5))
    settings.SMARTOA_NOW = paris("2026-04-10", "10:00")
    with django_assert_num_queries(3):
        found = published_days(contract.pk, date(2026, 3, 1), date(2026, 3, 31))
    assert len(found) == 31 and found[date(2026, 3, 5)].versions == 2
    assert found[date(2026, 3, 5)].state.status == Status.MISSED  # the acknowledged v1 was voided
    assert sum(d.state.status == Status.DONE for d in found.values()) == 30
    with django_assert_num_queries(1):
        assert published_days(contract.pk, date(2026, 5, 1), date(2026, 5, 31)) == {}
    assert first_published_day(contract.pk) == date(2026, 3, 1)
    assert first_published_day(make_contract("BOA00003").pk) is None
