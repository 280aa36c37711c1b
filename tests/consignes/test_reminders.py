"""The deadline jobs, run as the worker runs them, on the platform's clock: the acknowledgment reminder
(SMARTOA_REMINDER_MINUTES before each day's HLAR, by default) and the operators' warning at HLAR. Each fires when
due and not before, not twice, not for the contracts that acknowledged, again for a modification's new version,
follows a postponed HLAR, and records its run. The recipients' own choices are in
``tests/notifications/test_preferences_jobs.py``."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from smartoa.accounts.models import User
from smartoa.consignes.deadlines import parse_hhmm, set_hlar
from smartoa.consignes.jobs import missing, reminders
from smartoa.jobs.models import JobRun
from tests.factories import acknowledge, add_account, clock, emails, modify_day, paris, publish_day, stop_periods

DAY = date(2026, 11, 25)  # HLAR: 24/11/2026 16:30, Paris time


def at(hhmm: str):
    return paris("2026-11-24", hhmm)


def run(job, hhmm: str) -> dict:
    """Run ``job`` as the worker does, at ``hhmm`` on D−1; returns the counts its run recorded."""
    with clock(at(hhmm)):
        job.call_local()
    return JobRun.objects.filter(name=job.name.replace("_", ".", 1)).latest("started_at", "id").counts


def reminder_mails() -> list:
    return emails(event="acknowledgment.reminder")


@pytest.fixture
def day(db, make_contract):
    """A (held by a@), B (held by b@, acknowledged), C (nobody), D (held by a@ and d@), all published for DAY;
    ops@ is an operator."""
    contracts = {name: make_contract(f"BOA0000{n}") for n, name in enumerate("ABCD", start=1)}
    add_account(contracts["A"], "a@example.fr")
    add_account(contracts["B"], "b@example.fr")
    add_account(contracts["D"], "a@example.fr")
    add_account(contracts["D"], "d@example.com", language="en")
    User.objects.create_user("ops@example.org", is_staff=True)
    for contract in contracts.values():
        publish_day(contract, DAY, moment=at("10:00"))
    acknowledge(contracts["B"], DAY, moment=at("11:00"))
    return contracts


def test_no_reminder_before_its_time(day):
    assert run(reminders, "12:29") == {}  # before the widest window (4 hours, a lead time an account may choose)
    assert run(reminders, "14:29") == {"days": 1}  # in it, but nobody chose more than the default 2 hours
    assert reminder_mails() == []


def test_reminders_go_to_the_accounts_of_contracts_not_acknowledged_once(day):
    counts = run(reminders, "14:30")
    assert counts == {"days": 1, "contracts": 2, "emails": 2}  # A and D (B acknowledged, C has no account)
    mails = {m.recipient: m for m in reminder_mails()}
    assert sorted(mails) == ["a@example.fr", "d@example.com"]
    body = mails["a@example.fr"].body
    assert "pour ces 2 contrats" in body and "BOA00001" in body and "BOA00004" in body and "BOA00002" not in body
    assert "avant le 24/11/2026 à 16:30 (heure de Paris), l'heure limite d'accès au réseau (HLAR)" in body
    assert mails["a@example.fr"].subject == "SMART OA — rappel : acquiescement du 25/11/2026 attendu avant 16:30"
    assert "not acknowledged yet for this contract" in mails["d@example.com"].body
    assert run(reminders, "14:45") == {"days": 1}  # not twice
    assert run(reminders, "16:29") == {"days": 1}
    assert len(reminder_mails()) == 2
    run_record = JobRun.objects.filter(name="consignes.reminders").latest("started_at", "id")
    assert run_record.outcome == "succeeded" and run_record.finished_at == at("16:29")


def test_an_acknowledged_contract_is_not_reminded(day):
    acknowledge(day["A"], DAY, moment=at("13:00"))
    acknowledge(day["D"], DAY, moment=at("13:00"))
    assert run(reminders, "14:30") == {"days": 1}
    assert reminder_mails() == []


def test_a_new_version_is_reminded_again(day):
    run(reminders, "14:30")
    acknowledge(day["A"], DAY, moment=at("14:40"))
    modify_day(day["A"], DAY, stop_periods(DAY, "13:00", "18:00"), moment=at("15:00"))  # voids the acknowledgment
    assert run(reminders, "15:01") == {"days": 1, "contracts": 1, "emails": 1}
    latest = reminder_mails()[-1]
    assert latest.recipient == "a@example.fr" and "BOA00001 (Installation BOA00001), version 2" in latest.body
    assert "BOA00004" not in latest.body  # D's version 1 was reminded already
    assert run(reminders, "15:02") == {"days": 1}


def test_no_reminder_at_or_after_hlar(day):
    assert run(reminders, "16:30") == {}
    assert reminder_mails() == []


def test_reminders_follow_a_postponed_hlar(day):
    with transaction.atomic(), clock(at("12:00")):
        set_hlar(DAY, parse_hhmm("18:00"), actor="ops")
    assert run(reminders, "14:30") == {"days": 1}
    assert run(reminders, "15:59") == {"days": 1}
    assert reminder_mails() == []
    assert run(reminders, "16:00") == {"days": 1, "contracts": 2, "emails": 2}
    assert "avant le 24/11/2026 à 18:00 (heure de Paris)" in reminder_mails()[0].body


def test_a_failed_run_is_recorded_and_sends_nothing(day, monkeypatch):
    from smartoa.consignes import reminders as service

    def broken(*args, **kwargs):
        raise RuntimeError("the accounts could not be read")

    monkeypatch.setattr(service, "acknowledgment_reminders", broken)
    with pytest.raises(RuntimeError), clock(at("14:30")):
        reminders.call_local()
    failed = JobRun.objects.get(name="consignes.reminders")
    assert failed.outcome == "failed" and "RuntimeError: the accounts could not be read" in failed.message
    assert "Traceback" in failed.message and failed.finished_at == at("14:30")
    from smartoa.notifications.models import SentReminder

    assert not SentReminder.objects.exists()  # the run's work was rolled back: the next run sends them


# --- the operators' warning at HLAR ----------------------------------------------------------------------------


def warnings() -> list:
    return emails(event="acknowledgment.missing")


def test_the_operators_are_warned_at_hlar_of_who_is_missing_once(day):
    assert run(missing, "16:29") == {}
    assert warnings() == []
    assert run(missing, "16:30") == {"days": 1, "missing": 3, "emails": 1}
    (warning,) = warnings()
    assert warning.recipient == "ops@example.org"
    assert warning.subject == "SMART OA — 3 contrats sans acquiescement pour le 25/11/2026"
    for contract_id in ("BOA00001", "BOA00003", "BOA00004"):
        assert f"- {contract_id} (Installation {contract_id})" in warning.body
    assert "BOA00002" not in warning.body  # acknowledged
    assert run(missing, "16:31") == {}  # once per day
    assert run(missing, "23:00") == {}
    assert len(warnings()) == 1


def test_the_warning_goes_to_the_configured_addresses(day, settings):
    settings.SMARTOA_OPERATOR_EMAILS = ["astreinte@example.org", "ops2@example.org"]
    run(missing, "16:30")
    assert sorted(m.recipient for m in warnings()) == ["astreinte@example.org", "ops2@example.org"]


def test_the_warning_follows_a_postponed_hlar(day):
    with transaction.atomic(), clock(at("12:00")):
        set_hlar(DAY, parse_hhmm("18:00"), actor="ops")
    assert run(missing, "16:30") == {}
    acknowledge(day["A"], DAY, moment=at("17:00"))  # still open: HLAR is 18:00
    assert run(missing, "18:00") == {"days": 1, "missing": 2, "emails": 1}
    assert "BOA00001" not in warnings()[0].body


def test_no_warning_when_everyone_acknowledged(day):
    for name in "ACD":
        acknowledge(day[name], DAY, moment=at("12:00"))
    assert run(missing, "16:30") == {}
    assert warnings() == []
