"""The notification preferences' services: an account's choices (publication e-mails, reminders and their lead
time) and its choice for one contract; a contract's extra addresses — added unconfirmed with a confirmation link
e-mailed through the outbox, confirmed once by that link (a forged, reused, replaced or expired link refused),
the link sent again (not too often), removed, bounded in number, duplicates and the contract's own accounts
refused, every change audited — and cleared when the contract's manager changes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction

from smartoa.audit.models import AuditEvent
from smartoa.contracts.services import change_manager
from smartoa.domain.errors import Conflict, DeadlinePassed, InvalidInput, NotFound
from smartoa.notifications import preferences
from smartoa.notifications.models import ExtraAddress
from smartoa.notifications.preferences import OFF, AccountChoices, ReminderChoice
from tests.factories import add_account, clock, emails, paris

NOW = paris("2026-11-24", "10:00")


@pytest.fixture
def held(db, make_contract, settings):
    """BOA00001 held by a@ (French) and BOA00002 by b@ (English), the clock at NOW."""
    settings.SMARTOA_NOW = NOW
    one, two = make_contract("BOA00001"), make_contract("BOA00002")
    a = add_account(one, "a@example.fr")
    add_account(two, "b@example.com", language="en")
    return one, two, a


DEFAULT = ReminderChoice()


def add(contract, address="salle@example.fr", *, language="fr", reminders=DEFAULT, actor="a@example.fr"):
    with transaction.atomic():
        return preferences.add_address(
            contract, address, language=language, reminders=reminders, actor=actor, ip="80.12.34.56"
        )


def link_of(address: str) -> str:
    """The confirmation link of the latest confirmation e-mail to ``address``."""
    (body,) = [m.body for m in emails(event="address.confirmation", recipient=address)][-1:]
    return re.search(r"http://\S+/notifications/confirmer/(\S+)/", body).group(1)


def confirm(token: str, ip: str = "90.1.2.3"):
    with transaction.atomic():
        return preferences.confirm_address(token, ip=ip)


# --- an account's choices ---------------------------------------------------------------------------------------


def test_an_account_without_choices_has_the_operators_defaults(held, settings):
    _, _, a = held
    choices = preferences.account_choices(a)
    assert choices == AccountChoices(publications=True, reminders=ReminderChoice(True, None))
    assert choices.reminders.lead == settings.SMARTOA_REMINDER_MINUTES == 120


def test_an_account_changes_its_choices_once_audited(held):
    _, _, a = held
    wanted = AccountChoices(publications=False, reminders=ReminderChoice(True, 30))
    with transaction.atomic():
        assert preferences.set_account_choices(a, wanted, actor=a.email, ip="80.12.34.56")
    assert preferences.account_choices(a) == wanted
    with transaction.atomic():
        assert not preferences.set_account_choices(a, wanted, actor=a.email)  # nothing changed, nothing written
    (event,) = AuditEvent.objects.filter(action="notifications.preferences")
    assert (event.actor, event.ip, event.user_id) == (a.email, "80.12.34.56", a.pk)
    assert event.details == {"publications": False, "reminders": True, "reminder_minutes": 30}


@pytest.mark.parametrize("minutes", [0, 10, 45, 90, 1440])
def test_a_lead_time_not_offered_is_refused(held, minutes):
    one, _, a = held
    with pytest.raises(InvalidInput, match="30 minutes, 1, 2 or 4 hours"):
        preferences.set_account_choices(a, AccountChoices(True, ReminderChoice(True, minutes or -5)), actor="x")
    with pytest.raises(InvalidInput):
        preferences.set_contract_choice(a, one, ReminderChoice(True, minutes or 7), actor="x")
    assert not AuditEvent.objects.filter(action__startswith="notifications.").exists()


def test_switched_off_reminders_keep_no_lead_time(held):
    _, _, a = held
    with transaction.atomic():
        preferences.set_account_choices(a, AccountChoices(True, ReminderChoice(False, 240)), actor=a.email)
    assert preferences.account_choices(a).reminders == OFF and OFF.lead is None


def test_a_choice_for_one_contract_then_back_to_the_accounts(held):
    one, _, a = held
    assert preferences.contract_choice(a, one) is None
    with transaction.atomic():
        assert preferences.set_contract_choice(a, one, ReminderChoice(True, 240), actor=a.email, ip="80.12.34.56")
    assert preferences.contract_choice(a, one) == ReminderChoice(True, 240)
    with transaction.atomic():
        assert preferences.set_contract_choice(a, one, None, actor=a.email)
        assert not preferences.set_contract_choice(a, one, None, actor=a.email)
    assert preferences.contract_choice(a, one) is None
    actions = AuditEvent.objects.filter(action="notifications.contract_reminders").order_by("pk")
    assert [(e.contract_id, e.details["follows_account"]) for e in actions] == [(one.pk, False), (one.pk, True)]


# --- extra addresses: adding and confirming --------------------------------------------------------------------


def test_an_address_is_added_unconfirmed_and_sent_its_link_in_its_language(held):
    one, _, _ = held
    address = add(one, " Salle@Example.FR ", language="en", reminders=ReminderChoice(True, 60))
    assert (address.email, address.language, address.confirmed_at) == ("salle@example.fr", "en", None)
    assert address.link_expires_at == NOW + preferences.LINK_LIFETIME
    (mail,) = emails(event="address.confirmation")
    assert mail.recipient == "salle@example.fr"
    assert mail.subject == "SMART OA — confirm that you want the e-mails of contract BOA00001"
    assert "a@example.fr asks for this address to receive the e-mails of contract BOA00001" in mail.body
    assert "until 26/11/2026 at 10:00 (Paris time)" in mail.body
    token = link_of("salle@example.fr")
    assert len(token) >= 40 and token not in str(ExtraAddress.objects.values_list())  # only its hash is stored
    (event,) = AuditEvent.objects.filter(action="extra_address.added")
    assert (event.actor, event.ip, event.contract_id) == ("a@example.fr", "80.12.34.56", one.pk)
    assert event.details == {"address": "salle@example.fr", "language": "en"}


def test_the_link_is_erased_from_the_outbox_once_delivered(held):
    from tests.factories import deliver_outbox, outbox

    one, _, _ = held
    add(one)
    (message,) = outbox(event="address.confirmation")
    assert message.sensitive and "link" in message.context
    deliver_outbox()
    message.refresh_from_db()
    assert message.status == "delivered" and message.context == {}


def test_the_french_confirmation_email(held):
    one, _, _ = held
    add(one)
    (mail,) = emails(event="address.confirmation")
    assert mail.subject == "SMART OA — confirmez la réception des e-mails du contrat BOA00001"
    assert "a@example.fr demande que cette adresse reçoive les e-mails du contrat BOA00001" in mail.body
    assert "jusqu'au 26/11/2026 à 10:00 (heure de Paris)" in mail.body
    assert "Sans confirmation, cette adresse ne recevra rien." in mail.body


def test_the_link_confirms_the_address_once(held):
    one, _, _ = held
    add(one)
    token = link_of("salle@example.fr")
    assert preferences.address_for_link(token).email == "salle@example.fr"
    confirmed = confirm(token)
    assert confirmed.confirmed_at == NOW and confirmed.token_hash is None
    (event,) = AuditEvent.objects.filter(action="extra_address.confirmed")
    assert (event.actor, event.ip, event.contract_id) == ("salle@example.fr", "90.1.2.3", one.pk)
    with pytest.raises(NotFound, match="used already"):  # reused
        confirm(token)
    with pytest.raises(NotFound):
        preferences.address_for_link(token)


@pytest.mark.parametrize("token", ["", "short", "x" * 43, "y" * 500, "../../compte"])
def test_a_forged_link_is_refused(held, token):
    one, _, _ = held
    add(one)
    with pytest.raises(NotFound, match="not valid"):
        confirm(token)
    assert ExtraAddress.objects.get().confirmed_at is None
    assert not AuditEvent.objects.filter(action="extra_address.confirmed").exists()


def test_an_expired_link_is_refused_and_a_new_one_works(held):
    one, _, _ = held
    address = add(one)
    old = link_of("salle@example.fr")
    with clock(NOW + preferences.LINK_LIFETIME), pytest.raises(DeadlinePassed, match="expired") as refused:
        confirm(old)
    assert refused.value.params == {"expired_at": NOW + preferences.LINK_LIFETIME}
    with clock(NOW + preferences.LINK_LIFETIME - timedelta(seconds=1)):
        assert preferences.address_for_link(old)  # still valid the second before
    with clock(NOW + timedelta(days=3)), transaction.atomic():
        preferences.resend_link(one, address.pk, actor="a@example.fr", ip="80.12.34.56")
    new = link_of("salle@example.fr")
    assert new != old
    with clock(NOW + timedelta(days=3)), pytest.raises(NotFound):
        confirm(old)  # replaced
    with clock(NOW + timedelta(days=3, hours=1)):
        assert confirm(new).confirmed_at == NOW + timedelta(days=3, hours=1)
    assert AuditEvent.objects.filter(action="extra_address.link_sent").count() == 1


def test_a_link_is_not_sent_again_too_soon_nor_to_a_confirmed_address(held):
    one, _, _ = held
    address = add(one)
    with clock(NOW + timedelta(minutes=4)), pytest.raises(Conflict, match="wait a few minutes"):
        preferences.resend_link(one, address.pk, actor="a@example.fr")
    with clock(NOW + timedelta(minutes=5)), transaction.atomic():
        preferences.resend_link(one, address.pk, actor="a@example.fr")
    confirm(link_of("salle@example.fr"))
    with clock(NOW + timedelta(hours=1)), pytest.raises(Conflict, match="confirmed already"):
        preferences.resend_link(one, address.pk, actor="a@example.fr")
    assert len(emails(event="address.confirmation")) == 2


# --- extra addresses: refusals, removal ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "salle", "salle@", "a b@example.fr", "salle@exa\nmple.fr", "x" * 250 + "@ex.fr"])
def test_an_address_that_is_not_one_is_refused(held, bad):
    one, _, _ = held
    with pytest.raises(InvalidInput):
        add(one, bad)
    assert not ExtraAddress.objects.exists() and emails(event="address.confirmation") == []


def test_a_language_not_offered_is_refused(held):
    one, _, _ = held
    with pytest.raises(InvalidInput, match="French"):
        add(one, language="de")


def test_duplicates_and_the_contracts_own_accounts_are_refused(held):
    one, two, _ = held
    add(one)
    with pytest.raises(Conflict, match="already on the list of BOA00001"):
        add(one, "SALLE@example.fr")
    with pytest.raises(Conflict, match="its account holds the contract"):
        add(one, "a@example.fr")
    add(two, "salle@example.fr")  # another contract may have the same mailbox
    add(one, "b@example.com")  # an account of another contract is just an address here
    assert ExtraAddress.objects.count() == 3


def test_the_number_of_addresses_is_bounded(held):
    one, two, _ = held
    for n in range(preferences.MAX_EXTRA_ADDRESSES):
        add(one, f"salle{n}@example.fr")
    with pytest.raises(Conflict, match="already has 5 extra addresses") as refused:
        add(one, "one-more@example.fr")
    assert refused.value.params["limit"] == 5
    add(two, "one-more@example.fr")  # per contract
    removed = ExtraAddress.objects.filter(contract=one).first()
    with transaction.atomic():
        preferences.remove_address(one, removed.pk, actor="a@example.fr")
    add(one, "one-more@example.fr")


def test_an_address_is_removed_by_any_user_and_its_link_stops_working(held):
    one, _, _ = held
    address = add(one)
    token = link_of("salle@example.fr")
    add_account(one, "c@example.fr")
    with pytest.raises(NotFound):  # an address of another contract is not found from this one
        preferences.remove_address(held[1], address.pk, actor="b@example.com")
    with transaction.atomic():
        preferences.remove_address(one, address.pk, actor="c@example.fr", ip="80.12.34.57")
    assert not ExtraAddress.objects.exists()
    with pytest.raises(NotFound):
        confirm(token)
    (event,) = AuditEvent.objects.filter(action="extra_address.removed")
    assert (event.actor, event.ip, event.details) == ("c@example.fr", "80.12.34.57", {"address": "salle@example.fr"})


def test_an_addresss_reminders_are_changed_and_audited(held):
    one, two, _ = held
    address = add(one)
    with transaction.atomic():
        preferences.set_address_reminders(one, address.pk, OFF, actor="a@example.fr", ip="80.12.34.56")
        preferences.set_address_reminders(one, address.pk, OFF, actor="a@example.fr")  # unchanged: not audited
    address.refresh_from_db()
    assert (address.reminders, address.reminder_minutes) == (False, None)
    assert AuditEvent.objects.filter(action="extra_address.reminders").count() == 1
    with pytest.raises(NotFound):
        preferences.set_address_reminders(two, address.pk, ReminderChoice(), actor="b@example.com")
    with pytest.raises(InvalidInput):
        preferences.set_address_reminders(one, address.pk, ReminderChoice(True, 5), actor="a@example.fr")


def test_a_manager_change_removes_the_contracts_extra_addresses(held):
    one, two, _ = held
    add(one)
    add(one, "astreinte@example.fr")
    add(two, "salle@example.fr")
    add_account(one, "old-manager@example.fr", kind="manager")
    from smartoa.accounts.models import User

    new = User.objects.create_user("new-manager@example.fr")
    with transaction.atomic():
        assert change_manager(one, new, actor="ops@example.org")
    assert list(ExtraAddress.objects.values_list("contract_id", "email")) == [(two.pk, "salle@example.fr")]
    removed = AuditEvent.objects.filter(action="extra_address.removed", contract=one)
    assert sorted(e.details["address"] for e in removed) == ["astreinte@example.fr", "salle@example.fr"]
    (told,) = emails(event="manager.changed")
    assert "les adresses e-mail supplémentaires du contrat retirées" in told.body
