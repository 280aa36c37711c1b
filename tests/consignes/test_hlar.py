"""``smartoa hlar set|show``: the HLAR of a day is a local time on D−1; it moves both deadlines."""

import getpass
import json
from datetime import date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from smartoa.audit.models import AuditEvent
from smartoa.consignes.deadlines import ConfirmationRequired, NoticeTooShort, hlar_for, set_hlar
from smartoa.consignes.models import HlarOverride
from smartoa.consignes.rules import Force
from smartoa.domain.calendar import iso
from smartoa.notifications.services import set_webhook
from tests.factories import add_account, deliver_outbox, emails, outbox, paris, publish_day
from tests.notifications.receiver import Receiver


@pytest.mark.django_db
def test_set_postpones_and_show_prints_both_deadlines(settings, capsys):
    settings.SMARTOA_NOW = paris("2025-09-21", "11:00")
    call_command("hlar", "set", "--day", "2025-09-22", "--time", "17:15")
    out = capsys.readouterr().out
    assert "HLAR of 2025-09-22: 2025-09-21T17:15:00+02:00 (was 2025-09-21T16:30:00+02:00)" in out
    assert "changes accepted until 2025-09-21T16:45:00+02:00" in out
    assert iso(hlar_for(date(2025, 9, 22))) == "2025-09-21T17:15:00+02:00"
    assert iso(hlar_for(date(2025, 9, 23))) == "2025-09-22T16:30:00+02:00"  # other days unchanged
    event = AuditEvent.objects.get(action="hlar.set")
    assert event.details["hlar"] == "2025-09-21T17:15:00+02:00" and event.actor == f"cli:{getpass.getuser()}"
    call_command("hlar", "set", "--day", "2025-09-22", "--time", "17:45")
    assert HlarOverride.objects.count() == 1
    call_command("hlar", "show", "--day", "2025-09-22")
    assert "acknowledgments until 2025-09-21T17:45:00+02:00" in capsys.readouterr().out


@pytest.mark.django_db
def test_dst_day_hlar_is_winter_time(settings, capsys):
    settings.SMARTOA_NOW = paris("2026-03-27", "11:00")
    call_command("hlar", "show", "--day", "2026-03-29")
    assert "HLAR of 2026-03-29: 2026-03-28T16:30:00+01:00" in capsys.readouterr().out


@pytest.mark.django_db
def test_refused_once_the_hlar_passed_unless_forced(settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "16:31")
    with pytest.raises(CommandError, match="already passed at 2025-09-21T16:30:00"):
        call_command("hlar", "set", "--day", "2025-09-22", "--time", "18:00")
    assert not HlarOverride.objects.exists()
    with pytest.raises(CommandError, match="a reason is required to force"):
        call_command("hlar", "set", "--day", "2025-09-22", "--time", "18:00", "--force")
    assert not HlarOverride.objects.exists()
    call_command("hlar", "set", "--day", "2025-09-22", "--time", "18:00", "--force", "--reason", "RTE reopened it")
    assert iso(hlar_for(date(2025, 9, 22))) == "2025-09-21T18:00:00+02:00"
    details = AuditEvent.objects.get(action="hlar.set").details
    assert (details["forced"], details["force_reason"], details["overridden"]) == (
        True,
        "RTE reopened it",
        ["deadline_passed"],
    )


@pytest.mark.django_db
def test_new_hlar_in_the_past_is_refused_even_confirmed_and_forced(settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "15:00")
    with pytest.raises(CommandError, match="cannot be moved to 2025-09-21T14:00:00"):
        call_command(
            "hlar", "set", "--day", "2025-09-22", "--time", "14:00", "--confirm-earlier", "--force", "--reason", "x"
        )
    assert not HlarOverride.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", "2025-09-22", "--time", "25:00"], "not a time HH:MM"),
        (["--day", "2025-09-22", "--time", "5pm"], "not a time HH:MM"),
        (["--day", "22/09/2025", "--time", "17:00"], "not a date YYYY-MM-DD"),
        (["--day", "2026-03-30", "--time", "02:30"], "02:30 does not exist on 2026-03-29"),
    ],
)
def test_bad_input_is_refused(settings, args, message):
    settings.SMARTOA_NOW = paris("2025-09-01", "10:00")
    with pytest.raises(CommandError, match=message):
        call_command("hlar", "set", *args)


# --- moving it earlier: a confirmation, and never less than the change cutoff from now -------------------------

DAY = date(2026, 12, 6)  # HLAR on 05/12/2026


def set_to(hhmm: str, *, confirm: bool = False, force: Force | None = None):
    with transaction.atomic():
        return set_hlar(DAY, time.fromisoformat(hhmm), actor="ops@example.org", confirm_earlier=confirm, force=force)


@pytest.fixture
def late_evening(db, settings):
    """The HLAR of DAY postponed to 23:59 in the afternoon; it is now 19:49 (the issue's story)."""
    settings.SMARTOA_NOW = paris("2026-12-05", "14:00")
    set_to("23:59")
    settings.SMARTOA_NOW = paris("2026-12-05", "19:49")


def test_moving_it_earlier_needs_a_confirmation_that_says_what_closes_and_when(late_evening):
    with pytest.raises(ConfirmationRequired) as refused:
        set_to("21:00")
    assert refused.value.code == "confirmation_required"
    assert refused.value.message == (
        "moving the HLAR of 2026-12-06 earlier, from 2026-12-05T23:59:00+01:00 to 2026-12-05T21:00:00+01:00, "
        "closes changes at 2026-12-05T20:30:00+01:00 and acknowledgments at 2026-12-05T21:00:00+01:00: confirm to "
        "move it earlier"
    )
    assert iso(hlar_for(DAY)) == "2026-12-05T23:59:00+01:00"
    previous, new = set_to("21:00", confirm=True)
    assert (iso(previous), iso(new)) == ("2026-12-05T23:59:00+01:00", "2026-12-05T21:00:00+01:00")
    event = AuditEvent.objects.filter(action="hlar.set").latest("pk")
    assert (event.details["earlier"], event.details["forced"]) == (True, False)


def test_never_less_than_the_change_cutoff_from_now_to_the_minute(late_evening):
    for hhmm in ("19:52", "20:18"):  # 3 minutes' notice (the issue), then one minute short
        with pytest.raises(NoticeTooShort, match="the earliest possible is 2026-12-05T20:19:00") as refused:
            set_to(hhmm, confirm=True, force=Force("RTE said so"))
        assert refused.value.code == "notice_too_short"
    assert iso(hlar_for(DAY)) == "2026-12-05T23:59:00+01:00"
    set_to("20:19", confirm=True)  # exactly 30 minutes: changes close now, acknowledgments at 20:19
    assert iso(hlar_for(DAY)) == "2026-12-05T20:19:00+01:00"


def test_postponing_needs_no_confirmation(late_evening):
    set_to("23:30", confirm=True)
    previous, new = set_to("23:45")
    assert (iso(previous), iso(new)) == ("2026-12-05T23:30:00+01:00", "2026-12-05T23:45:00+01:00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "now", "refused", "accepted"),
    [
        # 29/03/2026, 23 hours: 01:45 (+01:00) to 03:10 (+02:00) is 25 real minutes, 03:15 is 30
        ("2026-03-30", "2026-03-29T01:45:00+01:00", "03:10", "03:15"),
        # 25/10/2026, 25 hours: 02:45 (+01:00, the second one) to 03:14 is 29 minutes, 03:15 is 30
        ("2026-10-26", "2026-10-25T02:45:00+01:00", "03:14", "03:15"),
    ],
)
def test_the_notice_counts_real_minutes_on_23_and_25_hour_days(settings, day, now, refused, accepted):
    settings.SMARTOA_NOW = datetime.fromisoformat(now)
    target = date.fromisoformat(day)
    with pytest.raises(NoticeTooShort), transaction.atomic():
        set_hlar(target, time.fromisoformat(refused), actor="ops", confirm_earlier=True)
    with transaction.atomic():
        _, new = set_hlar(target, time.fromisoformat(accepted), actor="ops", confirm_earlier=True)
    assert new - settings.SMARTOA_NOW == timedelta(minutes=30)


@pytest.mark.django_db
def test_the_command_line_refuses_an_earlier_hlar_without_confirmation_and_accepts_it_with(settings, capsys):
    settings.SMARTOA_NOW = paris("2026-12-05", "10:00")
    with pytest.raises(CommandError, match="confirm to move it earlier"):
        call_command("hlar", "set", "--day", "2026-12-06", "--time", "15:00")
    assert not HlarOverride.objects.exists()
    call_command("hlar", "set", "--day", "2026-12-06", "--time", "15:00", "--confirm-earlier")
    assert "HLAR of 2026-12-06: 2026-12-05T15:00:00+01:00 (was 2026-12-05T16:30:00+01:00)" in capsys.readouterr().out
    assert AuditEvent.objects.get(action="hlar.set").details["earlier"] is True


# --- every change tells the producers whose day is still open -----------------------------------------------


@pytest.fixture
def producers(db, settings, make_contract, receiver):
    """BOA00001 (an account in French, one in English, a webhook) and BOA00002 (an account) have a consigne for
    DAY; BOA00003 (an account) has none. It is 05/12/2026 at 10:00."""
    settings.SMARTOA_NOW = paris("2026-12-05", "10:00")
    one, two, three = make_contract("BOA00001"), make_contract("BOA00002"), make_contract("BOA00003")
    add_account(one, "fr@example.fr")
    add_account(one, "en@example.fr", language="en")
    add_account(two, "deux@example.fr")
    add_account(three, "trois@example.fr")
    with transaction.atomic():
        set_webhook(one, receiver.url, actor="test")
    publish_day(one, DAY, force=None)
    publish_day(two, DAY, force=None)
    return one, two


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_every_change_tells_the_producers_by_email_and_webhook(producers, receiver):
    set_to("18:45")  # postponed
    mails = {m.recipient: m for m in emails(event="hlar.changed")}
    assert sorted(mails) == ["deux@example.fr", "en@example.fr", "fr@example.fr"]
    french = mails["fr@example.fr"]
    assert french.subject == "SMART OA — l'HLAR est reportée"
    assert "passe du 05/12/2026 à 16:30 au 05/12/2026 à 18:45 (heure de Paris)" in french.body
    assert (
        "modifiées jusqu'au 05/12/2026 à 18:15" in french.body and "- BOA00001 (Installation BOA00001)" in french.body
    )
    english = mails["en@example.fr"]
    assert english.subject == "SMART OA — the HLAR is postponed"
    assert "moves from 05/12/2026 at 16:30 to 05/12/2026 at 18:45 (Paris time)" in english.body
    assert deliver_outbox()["delivered"] >= 1
    (call,) = [r for r in receiver.requests if r.event == "hlar.changed"]
    assert json.loads(call.body) | {"sent_at": None} == {
        "event": "hlar.changed",
        "id": "BOA00001",
        "application_date": "2026-12-06",
        "hlar": "2026-12-05T18:45:00+01:00",
        "previous_hlar": "2026-12-05T16:30:00+01:00",
        "change_deadline": "2026-12-05T18:15:00+01:00",
        "sent_at": None,
    }
    set_to("12:00", confirm=True)  # moved earlier: told again, with the other subject
    assert [m.subject for m in emails(event="hlar.changed", recipient="deux@example.fr")] == [
        "SMART OA — l'HLAR est reportée",
        "SMART OA — l'HLAR est avancée",
    ]


def test_a_refused_change_tells_nobody(producers):
    with pytest.raises(ConfirmationRequired):
        set_to("12:00")
    assert not outbox(event="hlar.changed")
