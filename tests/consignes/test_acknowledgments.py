"""Acknowledgments: whole day, bound to a version, repeatable until HLAR, locked after, voided by a change."""

from datetime import date

import pytest

from smartoa.audit.models import AuditEvent
from smartoa.consignes.acknowledgments import acknowledge, acknowledgment_state
from smartoa.consignes.deadlines import set_hlar
from smartoa.consignes.models import Acknowledgment
from smartoa.domain.calendar import iso
from smartoa.domain.errors import DeadlinePassed, NotFound, StaleVersion
from tests.factories import modify_day, paris, publish_day, stop_periods

DAY = date(2025, 9, 22)


@pytest.fixture
def contract(make_contract, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "12:55")
    contract = make_contract("BOA00001")
    publish_day(contract, DAY)
    return contract


def ack(contract, day=DAY, **kwargs):
    kwargs.setdefault("actor", "api:abc")
    kwargs.setdefault("channel", "api")
    return acknowledge(contract, day, **kwargs)


def test_acknowledgment_records_who_when_where_and_which_version(contract, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "14:00")
    state = acknowledgment_state(contract, DAY)
    assert (state.acknowledged, state.version, state.acknowledged_version, state.locked) == (
        False,
        1,
        None,
        False,
    )
    row = ack(contract, ip="203.0.113.7")
    assert (row.version.number, row.ip, row.actor, row.channel) == (1, "203.0.113.7", "api:abc", "api")
    assert iso(row.acknowledged_at) == "2025-09-21T14:00:00+02:00"
    state = acknowledgment_state(contract, DAY)
    assert state.acknowledged and state.acknowledged_version == 1
    assert state.as_json()["deadline"] == "2025-09-21T16:30:00+02:00"
    assert AuditEvent.objects.get(action="consigne.acknowledged").details["version"] == 1


def test_a_day_without_stop_must_be_acknowledged_too(make_contract, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "12:55")
    contract = make_contract("BOA00002")
    from smartoa.domain.schedule import no_stop_periods

    publish_day(contract, DAY, no_stop_periods(DAY))
    assert not acknowledgment_state(contract, DAY).acknowledged
    ack(contract)
    assert acknowledgment_state(contract, DAY).acknowledged


def test_a_newer_version_voids_the_acknowledgment(contract, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "14:00")
    ack(contract)
    settings.SMARTOA_NOW = paris("2025-09-21", "15:00")
    modify_day(contract, DAY, stop_periods(DAY, "13:55", "18:00"))
    state = acknowledgment_state(contract, DAY)
    assert (state.acknowledged, state.version, state.acknowledged_version) == (False, 2, 1)
    settings.SMARTOA_NOW = paris("2025-09-21", "15:05")
    assert ack(contract).version.number == 2
    assert acknowledgment_state(contract, DAY).acknowledged


def test_acknowledging_again_records_a_new_row(contract, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "14:00")
    ack(contract, ip="203.0.113.7")
    settings.SMARTOA_NOW = paris("2025-09-21", "16:10")
    ack(contract, ip="203.0.113.8")
    assert Acknowledgment.objects.count() == 2
    assert iso(acknowledgment_state(contract, DAY).acknowledged_at) == "2025-09-21T16:10:00+02:00"


@pytest.mark.parametrize(("now", "accepted"), [("16:29", True), ("16:30", False), ("16:31", False)])
def test_acknowledgment_deadline_to_the_minute(contract, settings, now, accepted):
    settings.SMARTOA_NOW = paris("2025-09-21", now)
    if accepted:
        ack(contract)
        assert not acknowledgment_state(contract, DAY).locked
    else:
        with pytest.raises(DeadlinePassed, match=r"closed at HLAR 2025-09-21T16:30:00\+02:00"):
            ack(contract)
        assert acknowledgment_state(contract, DAY).locked
        assert not Acknowledgment.objects.exists()


@pytest.mark.parametrize(("now", "accepted"), [("17:14", True), ("17:16", False)])
def test_postponed_hlar_moves_the_acknowledgment_deadline(contract, settings, now, accepted):
    from datetime import time

    set_hlar(DAY, time(17, 15), actor="test")
    settings.SMARTOA_NOW = paris("2025-09-21", now)
    if accepted:
        ack(contract)
    else:
        with pytest.raises(DeadlinePassed):
            ack(contract)


def test_dst_day_acknowledgment_deadline(make_contract, settings):
    """D = 29 March 2026: HLAR 2026-03-28 16:30+01:00 (15:30 UTC)."""
    day = date(2026, 3, 29)
    settings.SMARTOA_NOW = paris("2026-03-28", "09:00")
    contract = make_contract("BOA00001")
    publish_day(contract, day)
    settings.SMARTOA_NOW = paris("2026-03-28", "16:29")
    ack(contract, day)
    settings.SMARTOA_NOW = paris("2026-03-28", "16:31")
    with pytest.raises(DeadlinePassed, match=r"2026-03-28T16:30:00\+01:00"):
        ack(contract, day)


def test_stale_version_is_refused(contract, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "15:00")
    modify_day(contract, DAY, stop_periods(DAY, "13:55", "18:00"))
    with pytest.raises(StaleVersion, match=r"version 1 is not the current version .*current: 2"):
        ack(contract, version_number=1)
    assert ack(contract, version_number=2).version.number == 2


def test_nothing_published(contract):
    with pytest.raises(NotFound):
        ack(contract, date(2025, 9, 23))
    with pytest.raises(NotFound):
        acknowledgment_state(contract, date(2025, 9, 23))
