"""Who receives the consigne e-mails and the reminders, with the recipients' choices, run as the worker runs them
on the platform's clock: a confirmed extra address receives the consigne e-mails and the reminders (saying why it
receives them), an unconfirmed one nothing; an account that switched reminders off gets none, one that switched
the publication e-mails off still gets the modifications; a lead time of 2 hours fires at HLAR − 2 h and not
before, a contract's own choice wins over the account's; each reminder goes once per recipient, contract, day and
version; and the e-mails go out through Django's real (file) mail backend."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import transaction

from smartoa.consignes.jobs import reminders
from smartoa.consignes.models import ReminderSent
from smartoa.jobs.models import JobRun
from smartoa.notifications import preferences
from smartoa.notifications.models import SentReminder
from smartoa.notifications.outbox import Recipient
from smartoa.notifications.preferences import OFF, AccountChoices, ReminderChoice
from tests.factories import (
    acknowledge,
    add_account,
    clock,
    deliver_outbox,
    emails,
    modify_day,
    paris,
    publish_day,
    stop_periods,
)
from tests.portal.conftest import mailbox  # noqa: F401 - the fixture: Django's file mail backend

DAY = date(2026, 11, 25)  # HLAR: 24/11/2026 16:30, Paris time


def at(hhmm: str):
    return paris("2026-11-24", hhmm)


def run(hhmm: str) -> dict:
    """Run the reminder job as the worker does, at ``hhmm`` on D−1; returns the counts of its run."""
    with clock(at(hhmm)):
        reminders.call_local()
    return JobRun.objects.filter(name="consignes.reminders").latest("started_at", "id").counts


def reminded_to() -> list[str]:
    return sorted(m.recipient for m in emails(event="acknowledgment.reminder"))


DEFAULT = ReminderChoice()  # the operator's lead time


def confirmed(contract, address: str, *, language: str = "fr", reminders=DEFAULT):
    """An extra address of ``contract``, confirmed through the link e-mailed to it."""
    with transaction.atomic(), clock(at("08:00")):
        preferences.add_address(contract, address, language=language, reminders=reminders, actor="a@example.fr")
    body = [m.body for m in emails(event="address.confirmation", recipient=address)][-1]
    token = re.search(r"/notifications/confirmer/(\S+)/", body).group(1)
    with transaction.atomic(), clock(at("08:05")):
        preferences.confirm_address(token)


def choose(user, *, publications=True, reminders=DEFAULT):
    with transaction.atomic():
        preferences.set_account_choices(user, AccountChoices(publications, reminders), actor=user.email)


@pytest.fixture
def contracts(db, make_contract, settings):
    """A held by a@ with the confirmed extra address salle@ (English) and the unconfirmed attente@; B held by
    b@. Nothing published yet."""
    settings.SMARTOA_NOW = at("08:00")
    a, b = make_contract("BOA00001"), make_contract("BOA00002")
    users = {"a": add_account(a, "a@example.fr"), "b": add_account(b, "b@example.fr")}
    confirmed(a, "salle@example.fr", language="en")
    with transaction.atomic():
        preferences.add_address(a, "attente@example.fr", language="fr", reminders=ReminderChoice(), actor="x")
    return a, b, users


def publish_both(contracts):
    a, b, _ = contracts
    publish_day(a, DAY, moment=at("10:00"))
    publish_day(b, DAY, moment=at("10:00"))


# --- consigne e-mails -------------------------------------------------------------------------------------------


def test_a_confirmed_extra_address_receives_the_consigne_emails_an_unconfirmed_one_nothing(contracts):
    a, _, _ = contracts
    publish_both(contracts)
    published = {m.recipient: m for m in emails(event="consigne.published")}
    assert sorted(published) == ["a@example.fr", "b@example.fr", "salle@example.fr"]
    extra = published["salle@example.fr"]
    assert "A new consigne has been published:" in extra.body and "BOA00001" in extra.body
    assert "BOA00002" not in extra.body
    assert "You receive this message because this address was added to the notifications of this contract" in extra.body
    assert "Vous recevez ce message parce que" not in published["a@example.fr"].body  # accounts know why
    modify_day(a, DAY, stop_periods(DAY, "13:00", "18:00"), moment=at("11:00"))
    assert sorted(m.recipient for m in emails(event="consigne.modified")) == ["a@example.fr", "salle@example.fr"]
    assert not [m for m in emails() if m.recipient == "attente@example.fr" and "confirm" not in m.subject]


def test_an_account_without_publication_emails_still_gets_the_modifications(contracts):
    a, _, users = contracts
    choose(users["a"], publications=False)
    publish_both(contracts)
    assert sorted(m.recipient for m in emails(event="consigne.published")) == ["b@example.fr", "salle@example.fr"]
    modify_day(a, DAY, stop_periods(DAY, "13:00", "18:00"), moment=at("11:00"))
    assert sorted(m.recipient for m in emails(event="consigne.modified")) == ["a@example.fr", "salle@example.fr"]


def test_an_address_that_is_an_account_here_and_an_extra_address_there_gets_one_email(contracts, make_contract):
    a, b, _ = contracts
    confirmed(b, "a@example.fr", language="en")  # a@ holds A, and is B's extra address
    publish_day(a, DAY, moment=at("10:00"))
    publish_day(b, DAY, moment=at("10:00"))
    to_a = [m for m in emails(event="consigne.published") if m.recipient == "a@example.fr"]
    assert len(to_a) == 2  # one per publication (A's, then B's), each naming its contract
    with transaction.atomic():
        from smartoa.consignes.services import publish
        from smartoa.domain.schedule import ConsigneDocument

        day = date(2026, 11, 26)
        publish([ConsigneDocument(c.contract_id, day, stop_periods(day)) for c in (a, b)], actor="test")
    (both,) = [m for m in emails(event="consigne.published") if m.recipient == "a@example.fr"][2:]
    assert "BOA00001" in both.body and "BOA00002" in both.body
    assert "Bonjour" in both.body  # in the account's language, not the extra address's


# --- reminders --------------------------------------------------------------------------------------------------


def test_a_confirmed_extra_address_is_reminded_an_unconfirmed_one_not_once(contracts):
    publish_both(contracts)
    assert run("14:29") == {"days": 1}
    assert run("14:30") == {"days": 1, "contracts": 2, "emails": 3}
    assert reminded_to() == ["a@example.fr", "b@example.fr", "salle@example.fr"]
    extra = next(m for m in emails(event="acknowledgment.reminder") if m.recipient == "salle@example.fr")
    assert extra.subject == "SMART OA — reminder: acknowledgment for 25/11/2026 due before 16:30"
    assert "You receive this message because this address was added" in extra.body
    assert run("14:31") == {"days": 1} and run("16:29") == {"days": 1}  # once
    assert len(reminded_to()) == 3
    assert SentReminder.objects.count() == 3


def test_an_account_that_turned_reminders_off_gets_none(contracts):
    _, _, users = contracts
    choose(users["b"], reminders=OFF)
    publish_both(contracts)
    for hhmm in ("12:30", "14:30", "16:00", "16:29"):
        run(hhmm)
    assert reminded_to() == ["a@example.fr", "salle@example.fr"]
    assert [m.recipient for m in emails(event="consigne.published")].count("b@example.fr") == 1  # still published


def test_an_extra_address_without_reminders_gets_the_consignes_only(contracts, make_contract):
    a, _, _ = contracts
    confirmed(a, "consignes-seules@example.fr", reminders=OFF)
    publish_both(contracts)
    run("14:30")
    assert "consignes-seules@example.fr" not in reminded_to()
    assert "consignes-seules@example.fr" in [m.recipient for m in emails(event="consigne.published")]


def test_a_lead_time_of_two_hours_fires_at_hlar_minus_two_hours_and_not_before(contracts, settings):
    settings.SMARTOA_REMINDER_MINUTES = 30  # the operator's default: others are reminded at 16:00
    _, _, users = contracts
    choose(users["a"], reminders=ReminderChoice(True, 120))
    publish_both(contracts)
    assert run("14:29") == {"days": 1}
    assert reminded_to() == []
    assert run("14:30") == {"days": 1, "contracts": 1, "emails": 1}
    assert reminded_to() == ["a@example.fr"]
    assert run("15:59") == {"days": 1}
    assert run("16:00") == {"days": 1, "contracts": 2, "emails": 2}
    assert reminded_to() == ["a@example.fr", "b@example.fr", "salle@example.fr"]
    mail = next(m for m in emails(event="acknowledgment.reminder") if m.recipient == "a@example.fr")
    assert "avant le 24/11/2026 à 16:30 (heure de Paris)" in mail.body


def test_a_contracts_own_choice_wins_over_the_accounts(contracts, make_contract):
    a, _, users = contracts
    other = make_contract("BOA00003")
    add_account(other, "a@example.fr")
    choose(users["a"], reminders=ReminderChoice(True, 30))
    with transaction.atomic():
        preferences.set_contract_choice(users["a"], a, ReminderChoice(True, 240), actor="a@example.fr")
    publish_both(contracts)
    publish_day(other, DAY, moment=at("10:00"))
    assert run("12:30") == {"days": 1, "contracts": 1, "emails": 1}
    (early,) = emails(event="acknowledgment.reminder")
    assert early.recipient == "a@example.fr" and "BOA00001" in early.body and "BOA00003" not in early.body
    run("16:00")
    late = [m for m in emails(event="acknowledgment.reminder") if m.recipient == "a@example.fr"][1]
    assert "BOA00003" in late.body and "BOA00001" not in late.body
    with transaction.atomic():
        preferences.set_contract_choice(users["a"], other, OFF, actor="a@example.fr")
    assert (Recipient("a@example.fr"), 240) in preferences.reminder_recipients([a.pk])[a.pk]
    assert preferences.reminder_recipients([other.pk]) == {}


def test_the_job_follows_the_hlar_with_each_lead_time_and_a_new_version_again(contracts, settings):
    a, _, users = contracts
    choose(users["a"], reminders=ReminderChoice(True, 60))
    publish_both(contracts)
    run("14:30")  # b@ and salle@ (default 2 hours)
    assert reminded_to() == ["b@example.fr", "salle@example.fr"]
    modify_day(a, DAY, stop_periods(DAY, "13:00", "18:00"), moment=at("15:00"))  # version 2
    assert run("15:01") == {"days": 1, "contracts": 1, "emails": 1}  # salle@ for version 2
    assert run("15:30") == {"days": 1, "contracts": 1, "emails": 1}  # a@, its hour before HLAR
    latest = emails(event="acknowledgment.reminder")[-1]
    assert latest.recipient == "a@example.fr" and "version 2" in latest.body


def test_an_acknowledged_contract_is_reminded_to_nobody(contracts):
    a, b, _ = contracts
    publish_both(contracts)
    acknowledge(a, DAY, moment=at("12:00"))
    acknowledge(b, DAY, moment=at("12:00"))
    assert run("14:30") == {"days": 1}
    assert reminded_to() == []


def test_reminders_noted_before_the_upgrade_are_not_sent_again(contracts):
    a, _, _ = contracts
    publish_both(contracts)
    ReminderSent.objects.create(contract=a, delivery_day=DAY, number=1, sent_at=at("14:30"))  # the former note
    run("14:31")
    assert reminded_to() == ["b@example.fr"]


def test_the_reminder_notes_are_purged_with_the_outbox(contracts, settings):
    from smartoa.notifications.jobs import purge_old

    publish_both(contracts)
    run("14:30")
    settings.SMARTOA_OUTBOX_KEEP_DAYS = 30
    with clock(paris("2026-12-24", "12:00")):
        purge_old.call_local()
    assert SentReminder.objects.count() == 3  # the 25th is not older than 30 days before the 24th of December
    with clock(paris("2026-12-26", "12:00")):
        purge_old.call_local()
    assert SentReminder.objects.count() == 0


def test_the_emails_go_out_through_djangos_mail_backend(contracts, mailbox):  # noqa: F811
    publish_both(contracts)
    run("14:30")
    with clock(at("14:31")):
        deliver_outbox()
    to_salle = mailbox.to("salle@example.fr")
    assert len(to_salle) == 3  # the confirmation link, the publication and the reminder
    assert any(
        "was added to the notifications of this contract" in body and "acknowledged" in body for body in to_salle
    )
    assert mailbox.to("attente@example.fr") and all("/notifications/confirmer/" in b for b in mailbox.to("attente@"))
    subjects = [m["Subject"] for m in mailbox.messages() if "salle@example.fr" in m["To"]]
    assert any("reminder" in s for s in subjects)


def test_the_recipients_are_read_in_bulk(db, make_contract, django_assert_num_queries):
    """A few queries whatever the number of contracts (the jobs cover thousands): no query per contract."""
    many = [make_contract(f"BOA{n:05d}") for n in range(1, 41)]
    for n, contract in enumerate(many):
        user = add_account(contract, f"user{n % 7}@example.fr")
        if n % 3 == 0:
            with transaction.atomic():
                preferences.set_contract_choice(user, contract, ReminderChoice(True, 30), actor="test")
    pks = [c.pk for c in many]
    with django_assert_num_queries(3):  # accounts with their choices, the contracts' choices, extra addresses
        wanted = preferences.reminder_recipients(pks)
    assert len(wanted) == 40 and (Recipient("user0@example.fr"), 30) in wanted[many[0].pk]
    with django_assert_num_queries(2):  # accounts with their choices, extra addresses
        assert len(preferences.consigne_recipients(pks, publication=True)) == 40
