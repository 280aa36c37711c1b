"""Incident changes: a new version with its reason, accepted until HLAR − 30 min of D−1, all or nothing."""

import json
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from smartoa.audit.models import AuditEvent
from smartoa.consignes.models import ConsigneVersion, HlarOverride
from smartoa.consignes.queries import version_history
from smartoa.domain.errors import Conflict, DeadlinePassed, NotFound
from tests.factories import as_json, modify_day, paris, publish_day, stop_periods
from tests.subprocess_env import smartoa

DAY = date(2025, 9, 22)


@pytest.fixture
def published(make_contract, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "12:55")
    contract = make_contract("BOA00001")
    publish_day(contract, DAY)
    return contract


def change_file(tmp_path, *docs):
    path = tmp_path / "change.json"
    path.write_text(json.dumps(list(docs)))
    return str(path)


def test_modify_creates_the_next_version_with_its_reason(published, settings, tmp_path, capsys):
    settings.SMARTOA_NOW = paris("2025-09-21", "15:10")
    path = change_file(tmp_path, as_json("BOA00001", DAY, stop_periods(DAY, "13:55", "18:00")))
    call_command("consignes", "modify", path, "--reason", "RTE: network constraint")
    assert "BOA00001 2025-09-22 v2: stop 13:55–18:00" in capsys.readouterr().out
    v1, v2 = version_history(published, DAY)
    assert (v1.number, v2.number) == (1, 2)
    assert v2.reason == "RTE: network constraint" and v1.reason == ""
    assert json.loads(v2.document)["update_date"] == "2025-09-21T15:10:00+02:00"
    assert json.loads(v1.document)["update_date"] == "2025-09-21T12:55:00+02:00"  # kept as it was
    event = AuditEvent.objects.get(action="consigne.modified")
    assert event.details["version"] == 2 and event.contract == published


def test_history_command_lists_every_version(published, settings, tmp_path, capsys):
    settings.SMARTOA_NOW = paris("2025-09-21", "15:10")
    modify_day(published, DAY, stop_periods(DAY, "13:55", "18:00"), reason="incident A")
    modify_day(published, DAY, stop_periods(DAY, "14:55", "18:00"), reason="incident B")
    call_command("consignes", "history", "BOA00001", "--day", "2025-09-22")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2025-09-22 v1 2025-09-21T12:55:00+02:00 by test: stop 11:55–18:00")
    assert lines[2].endswith("stop 14:55–18:00 — incident B")
    call_command("consignes", "history", "BOA00001", "--json")
    assert [d["data"][1]["start_date"][11:16] for d in json.loads(capsys.readouterr().out)] == [
        "11:55",
        "13:55",
        "14:55",
    ]


@pytest.mark.parametrize(
    ("now", "accepted"),
    [
        (("2025-09-21", "15:59"), True),
        (("2025-09-21", "16:00"), False),
        (("2025-09-21", "16:01"), False),
        (("2025-09-22", "09:00"), False),
    ],
)
def test_change_deadline_to_the_minute(published, settings, now, accepted):
    settings.SMARTOA_NOW = paris(*now)
    new = stop_periods(DAY, "13:55", "18:00")
    if accepted:
        assert modify_day(published, DAY, new).number == 2
    else:
        with pytest.raises(DeadlinePassed, match=r"changes closed at 2025-09-21T16:00:00\+02:00 \(HLAR .*16:30"):
            modify_day(published, DAY, new)
        assert ConsigneVersion.objects.count() == 1


@pytest.mark.parametrize(("now", "accepted"), [("16:44", True), ("16:46", False)])
def test_postponed_hlar_moves_the_change_deadline(published, settings, now, accepted):
    settings.SMARTOA_NOW = paris("2025-09-21", "10:00")
    call_command("hlar", "set", "--day", "2025-09-22", "--time", "17:15")
    settings.SMARTOA_NOW = paris("2025-09-21", now)
    new = stop_periods(DAY, "13:55", "18:00")
    if accepted:
        assert modify_day(published, DAY, new).number == 2
    else:
        with pytest.raises(DeadlinePassed, match=r"16:45:00\+02:00"):
            modify_day(published, DAY, new)


def test_dst_day_deadline_is_in_winter_time(make_contract, settings):
    """D = 29 March 2026 (23 hours): HLAR is 28 March 16:30+01:00, so changes close at 16:00+01:00."""
    day = date(2026, 3, 29)
    settings.SMARTOA_NOW = paris("2026-03-28", "09:00")
    contract = make_contract("BOA00001")
    publish_day(contract, day)
    settings.SMARTOA_NOW = paris("2026-03-28", "15:59")
    assert modify_day(contract, day, stop_periods(day, "13:55", "18:00")).number == 2
    settings.SMARTOA_NOW = paris("2026-03-28", "16:01")
    with pytest.raises(DeadlinePassed, match=r"2026-03-28T16:00:00\+01:00"):
        modify_day(contract, day, stop_periods(day, "14:55", "18:00"))


def test_change_refused_for_a_day_never_published(published, settings):
    with pytest.raises(NotFound, match="BOA00001 2025-09-23: never published"):
        modify_day(published, date(2025, 9, 23), stop_periods(date(2025, 9, 23)))


def test_identical_content_is_refused(published):
    with pytest.raises(Conflict, match="identical to the current version v1"):
        modify_day(published, DAY, stop_periods(DAY))


def test_all_or_nothing(published, make_contract, tmp_path):
    make_contract("BOA00002")
    good = as_json("BOA00001", DAY, stop_periods(DAY, "13:55", "18:00"))
    never = as_json("BOA00002", DAY, stop_periods(DAY, "13:55", "18:00"))
    with pytest.raises(CommandError, match="nothing was changed:\nBOA00002 2025-09-22: never published"):
        call_command("consignes", "modify", change_file(tmp_path, good, never), "--reason", "incident")
    assert ConsigneVersion.objects.count() == 1


def test_reason_is_required(published, tmp_path):
    path = change_file(tmp_path, as_json("BOA00001", DAY, stop_periods(DAY, "13:55", "18:00")))
    with pytest.raises(CommandError, match="a reason is required"):
        call_command("consignes", "modify", path, "--reason", "  ")


def test_invalid_document_is_refused(published, tmp_path):
    bad = as_json("BOA00001", DAY, stop_periods(DAY, "13:55", "18:00"))
    bad["data"][1]["start_date"] = "2025-09-22T13:50:00+02:00"
    with pytest.raises(CommandError, match=r"nothing was changed:\ndocument 1: .*overlaps"):
        call_command("consignes", "modify", change_file(tmp_path, bad), "--reason", "x")


def test_the_api_serves_the_new_version(published, issue_token, settings, wsgi):
    token = issue_token(published)
    settings.SMARTOA_NOW = paris("2025-09-21", "15:30")
    modify_day(published, DAY, stop_periods(DAY, "13:55", "18:00"))
    document = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"}).json()
    assert document["update_date"] == "2025-09-21T15:30:00+02:00"
    assert document["data"][1]["start_date"] == "2025-09-22T13:55:00+02:00"
    assert not HlarOverride.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_real_command_refuses_a_late_change_with_a_clear_message(make_contract, settings, tmp_path):
    settings.SMARTOA_NOW = paris("2025-09-21", "12:55")
    publish_day(make_contract("BOA00001"), DAY)
    path = change_file(tmp_path, as_json("BOA00001", DAY, stop_periods(DAY, "13:55", "18:00")))
    late = smartoa("consignes", "modify", path, "--reason", "x", SMARTOA_NOW="2025-09-21T16:01:00+02:00")
    assert late.returncode != 0
    assert "2025-09-22: publication and changes closed at 2025-09-21T16:00:00+02:00" in late.stderr
    ok = smartoa("consignes", "modify", path, "--reason", "x", SMARTOA_NOW="2025-09-21T15:59:00+02:00")
    assert ok.returncode == 0, ok.stderr
    assert "BOA00001 2025-09-22 v2" in ok.stdout


def test_modify_tells_the_contracts_accounts_by_email_after_commit(
    published, make_contract, settings, tmp_path, django_capture_on_commit_callbacks, mailoutbox
):
    from smartoa.accounts.models import Role, User

    other = make_contract("BOA00002")
    Role.objects.create(user=User.objects.create_user("holder@x.fr"), contract=published, kind="holder")
    Role.objects.create(user=User.objects.create_user("manager@x.fr"), contract=published, kind="manager")
    Role.objects.create(user=User.objects.create_user("other@x.fr"), contract=other, kind="holder")
    settings.SMARTOA_NOW = paris("2025-09-21", "15:10")
    path = change_file(tmp_path, as_json("BOA00001", DAY, stop_periods(DAY, "13:55", "18:00")))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("consignes", "modify", path, "--reason", "RTE: network constraint")
    assert sorted(m.to[0] for m in mailoutbox) == ["holder@x.fr", "manager@x.fr"]
    body = mailoutbox[0].body
    assert "- BOA00001 (Installation BOA00001), livraison le 22/09/2025, version 2 : arrêt 13:55–18:00" in body
    assert "à acquiescer avant le 21/09/2025 à 16:30 (heure de Paris)" in body
    assert "RTE: network constraint" in body


def test_a_refused_change_sends_nothing(published, settings, tmp_path, django_capture_on_commit_callbacks, mailoutbox):
    from smartoa.accounts.models import Role, User

    Role.objects.create(user=User.objects.create_user("holder@x.fr"), contract=published, kind="holder")
    settings.SMARTOA_NOW = paris("2025-09-21", "16:01")
    path = change_file(tmp_path, as_json("BOA00001", DAY, stop_periods(DAY, "13:55", "18:00")))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CommandError):
        call_command("consignes", "modify", path, "--reason", "late")
    assert mailoutbox == []
