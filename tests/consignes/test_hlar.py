"""``smartoa hlar set|show``: the HLAR of a day is a local time on D−1; it moves both deadlines."""

import getpass
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from smartoa.audit.models import AuditEvent
from smartoa.consignes.deadlines import hlar_for
from smartoa.consignes.models import HlarOverride
from smartoa.domain.calendar import iso
from tests.factories import paris


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
    call_command("hlar", "set", "--day", "2025-09-22", "--time", "18:00", "--force")
    assert iso(hlar_for(date(2025, 9, 22))) == "2025-09-21T18:00:00+02:00"


@pytest.mark.django_db
def test_new_hlar_in_the_past_is_refused(settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "15:00")
    with pytest.raises(CommandError, match="already past"):
        call_command("hlar", "set", "--day", "2025-09-22", "--time", "14:00")


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
