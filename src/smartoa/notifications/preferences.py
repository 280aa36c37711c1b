"""Who receives a contract's e-mails, and when: the accounts' choices and the contracts' extra addresses.

- An account chooses, for all its contracts ("Mon compte"), whether it receives the publication e-mails and the
  acknowledgment reminders, and how long before each day's HLAR the reminder comes (``REMINDER_CHOICES``, or the
  operator's SMARTOA_REMINDER_MINUTES); it may choose otherwise for one contract (its reminders only). The
  modification e-mails cannot be switched off: a modification voids the acknowledgment, which must be given
  again before HLAR. Account-security e-mails (login, token expiry, manager change) are not concerned.
- A contract's users add extra addresses (a control room's mailbox: no account), at most
  ``MAX_EXTRA_ADDRESSES``. Each is confirmed through a link e-mailed to it (a random token, of which only the
  SHA-256 is stored; it expires after ``LINK_LIFETIME`` and works once) before it receives anything: then it
  receives the contract's consigne e-mails and reminders, never an account-security e-mail.

Every change is audited; callers own the transaction. The periodic jobs and the publications read the choices
in bulk (``consigne_recipients``, ``reminder_recipients``: a few queries per thousand contracts).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_noop as _

from smartoa.accounts.addresses import check_email
from smartoa.accounts.models import Role, User
from smartoa.audit.services import record
from smartoa.contracts.models import Contract
from smartoa.core.clock import now
from smartoa.core.sql import chunks
from smartoa.domain.errors import Conflict, DeadlinePassed, InvalidInput, NotFound
from smartoa.notifications.models import AccountPreference, ContractReminderChoice, ExtraAddress, SentReminder
from smartoa.notifications.outbox import Recipient, email, enqueue

REMINDER_CHOICES = (30, 60, 120, 240)  # minutes before HLAR an account may choose, besides the operator's
MAX_EXTRA_ADDRESSES = 5  # per contract, confirmed or not
LINK_LIFETIME = timedelta(hours=48)  # a confirmation link works this long, once
RESEND_AFTER = timedelta(minutes=5)  # a new link to the same address no sooner than this
LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class ReminderChoice:
    """Reminders on or off, and how many minutes before HLAR (None: the operator's SMARTOA_REMINDER_MINUTES)."""

    enabled: bool = True
    minutes: int | None = None

    @property
    def lead(self) -> int | None:
        """Minutes before HLAR the reminder is sent, None when switched off."""
        if not self.enabled:
            return None
        return self.minutes or settings.SMARTOA_REMINDER_MINUTES


OFF = ReminderChoice(enabled=False)


def widest_lead() -> int:
    """The longest time before HLAR at which anybody may be reminded (the reminder job's window)."""
    return max(*REMINDER_CHOICES, settings.SMARTOA_REMINDER_MINUTES)


def check_choice(choice: ReminderChoice) -> ReminderChoice:
    """``choice`` if its lead time is one of the offered ones (off: no lead time), else InvalidInput."""
    if not choice.enabled:
        return OFF
    if choice.minutes is not None and choice.minutes not in REMINDER_CHOICES:
        raise InvalidInput(
            _("a reminder can be sent 30 minutes, 1, 2 or 4 hours before HLAR, not %(minutes)s minutes"),
            minutes=choice.minutes,
        )
    return choice


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidInput(_("the language must be French (fr) or English (en), not %(language)r"), language=language)
    return language


# --- an account's choices ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountChoices:
    """What an account receives: the publication e-mails, and its reminders."""

    publications: bool = True
    reminders: ReminderChoice = ReminderChoice()


def account_choices(user: User) -> AccountChoices:
    """The account's choices (the operator's defaults if it never chose)."""
    found = AccountPreference.objects.filter(user=user).first()
    if found is None:
        return AccountChoices()
    return AccountChoices(found.publications, ReminderChoice(found.reminders, found.reminder_minutes))


def set_account_choices(user: User, choices: AccountChoices, *, actor: str, ip: str | None = None) -> bool:
    """Record the account's choices for all its contracts; returns False when they were already these (nothing
    written). InvalidInput for a lead time not offered."""
    reminders = check_choice(choices.reminders)
    if account_choices(user) == AccountChoices(choices.publications, reminders):
        return False
    AccountPreference.objects.update_or_create(
        user=user,
        defaults={
            "publications": choices.publications,
            "reminders": reminders.enabled,
            "reminder_minutes": reminders.minutes,
            "updated_at": now(),
        },
    )
    record(
        "notifications.preferences",
        actor=actor,
        user=user,
        ip=ip,
        publications=choices.publications,
        reminders=reminders.enabled,
        reminder_minutes=reminders.minutes,
    )
    return True


def contract_choice(user: User, contract) -> ReminderChoice | None:
    """The account's reminder choice for ``contract``, None when it follows its account's."""
    found = ContractReminderChoice.objects.filter(user=user, contract=contract).first()
    return None if found is None else ReminderChoice(found.reminders, found.reminder_minutes)


def set_contract_choice(
    user: User, contract, choice: ReminderChoice | None, *, actor: str, ip: str | None = None
) -> bool:
    """The account's reminders for ``contract`` follow ``choice`` (None: its account's); returns False when
    nothing changed. InvalidInput for a lead time not offered."""
    choice = None if choice is None else check_choice(choice)
    if contract_choice(user, contract) == choice:
        return False
    if choice is None:
        ContractReminderChoice.objects.filter(user=user, contract=contract).delete()
    else:
        ContractReminderChoice.objects.update_or_create(
            user=user,
            contract=contract,
            defaults={"reminders": choice.enabled, "reminder_minutes": choice.minutes, "updated_at": now()},
        )
    record(
        "notifications.contract_reminders",
        actor=actor,
        user=user,
        contract=contract,
        ip=ip,
        follows_account=choice is None,
        reminders=None if choice is None else choice.enabled,
        reminder_minutes=None if choice is None else choice.minutes,
    )
    return True


# --- a contract's extra addresses -------------------------------------------------------------------------------


def extra_addresses(contract) -> list[ExtraAddress]:
    """The contract's extra addresses, confirmed or not, by address."""
    return list(ExtraAddress.objects.filter(contract=contract).order_by("email"))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _send_link(address: ExtraAddress, contract) -> None:
    """Give ``address`` a new confirmation link (the previous one stops working) and e-mail it (not saved)."""
    token = secrets.token_urlsafe(32)
    moment = now()
    address.token_hash = _hash(token)
    address.link_sent_at = moment
    address.link_expires_at = moment + LINK_LIFETIME
    context = {
        "contract_id": contract.contract_id,
        "label": contract.label,
        "email": address.email,
        "added_by": address.added_by,
        "link": settings.BASE_URL + reverse("portal:confirm-address", kwargs={"token": token}),
        "expires_at": address.link_expires_at,
    }
    recipient = Recipient(address.email, address.language, extra=True)
    # Sensitive: the link is erased from the outbox once delivered.
    message = email(
        "address_confirmation", recipient, context, event="address.confirmation", contract=contract.pk, sensitive=True
    )
    enqueue([message])


def add_address(
    contract, address: str, *, language: str, reminders: ReminderChoice, actor: str, ip: str | None = None
) -> ExtraAddress:
    """Add ``address`` to the contract's extra addresses, unconfirmed, and e-mail it its confirmation link.
    InvalidInput for an address, language or lead time that cannot be used; Conflict when the contract already
    has ``MAX_EXTRA_ADDRESSES``, when the address is already on its list, or when it is the address of an
    account holding the contract (which receives its e-mails already)."""
    text = check_email(address)
    language = _language(language)
    reminders = check_choice(reminders)
    Contract.objects.select_for_update().filter(pk=contract.pk).first()  # one addition at a time per contract
    existing = list(ExtraAddress.objects.filter(contract=contract).values_list("email", flat=True))
    if text in existing:
        raise Conflict(
            _("%(email)s is already on the list of %(contract_id)s"), email=text, contract_id=contract.contract_id
        )
    if Role.objects.filter(contract=contract, user__email=text).exists():
        raise Conflict(
            _("%(email)s already receives the e-mails of %(contract_id)s: its account holds the contract"),
            email=text,
            contract_id=contract.contract_id,
        )
    if len(existing) >= MAX_EXTRA_ADDRESSES:
        raise Conflict(
            _("%(contract_id)s already has %(limit)s extra addresses, the most allowed: remove one first"),
            contract_id=contract.contract_id,
            limit=MAX_EXTRA_ADDRESSES,
        )
    extra = ExtraAddress(
        contract=contract,
        email=text,
        language=language,
        reminders=reminders.enabled,
        reminder_minutes=reminders.minutes,
        added_by=actor[:254],
        added_at=now(),
    )
    _send_link(extra, contract)
    extra.save()
    record("extra_address.added", actor=actor, contract=contract, ip=ip, address=text, language=language)
    return extra


def _address_of(contract, pk: int, *, lock: bool = False) -> ExtraAddress:
    query = ExtraAddress.objects.filter(contract=contract, pk=pk)
    found = (query.select_for_update() if lock else query).first()
    if found is None:
        raise NotFound(_("%(contract_id)s has no such extra address"), contract_id=contract.contract_id)
    return found


def resend_link(contract, pk: int, *, actor: str, ip: str | None = None) -> ExtraAddress:
    """E-mail a new confirmation link to the contract's unconfirmed extra address ``pk`` (the previous link stops
    working). NotFound if the contract has no such address; Conflict if it is confirmed already, or if a link
    was sent to it less than ``RESEND_AFTER`` ago."""
    address = _address_of(contract, pk, lock=True)
    if address.confirmed_at is not None:
        raise Conflict(_("%(email)s is confirmed already"), email=address.email)
    if address.link_sent_at is not None and now() < address.link_sent_at + RESEND_AFTER:
        raise Conflict(
            _("a link was sent to %(email)s on %(sent_at)s: wait a few minutes before sending another"),
            email=address.email,
            sent_at=address.link_sent_at,
        )
    _send_link(address, contract)
    address.save(update_fields=["token_hash", "link_sent_at", "link_expires_at"])
    record("extra_address.link_sent", actor=actor, contract=contract, ip=ip, address=address.email)
    return address


def set_address_reminders(
    contract, pk: int, reminders: ReminderChoice, *, actor: str, ip: str | None = None
) -> ExtraAddress:
    """The reminders of the contract's extra address ``pk``: on or off, and how long before HLAR. NotFound if the
    contract has no such address; InvalidInput for a lead time not offered."""
    reminders = check_choice(reminders)
    address = _address_of(contract, pk, lock=True)
    if (address.reminders, address.reminder_minutes) != (reminders.enabled, reminders.minutes):
        address.reminders, address.reminder_minutes = reminders.enabled, reminders.minutes
        address.save(update_fields=["reminders", "reminder_minutes"])
        record(
            "extra_address.reminders",
            actor=actor,
            contract=contract,
            ip=ip,
            address=address.email,
            reminders=reminders.enabled,
            reminder_minutes=reminders.minutes,
        )
    return address


def remove_address(contract, pk: int, *, actor: str, ip: str | None = None) -> ExtraAddress:
    """Remove the contract's extra address ``pk`` (it receives nothing more; its link stops working). NotFound if
    the contract has no such address."""
    address = _address_of(contract, pk, lock=True)
    address.delete()
    record("extra_address.removed", actor=actor, contract=contract, ip=ip, address=address.email)
    return address


def clear_addresses(contract, *, actor: str) -> int:
    """Remove every extra address of the contract (a manager change: the old manager's mailboxes stop receiving
    its e-mails, as its machines lose the token and the IP list); returns how many."""
    removed = 0
    for address in ExtraAddress.objects.select_for_update().filter(contract=contract).order_by("email"):
        address.delete()
        record("extra_address.removed", actor=actor, contract=contract, address=address.email, reason="manager")
        removed += 1
    return removed


def address_for_link(token: str) -> ExtraAddress:
    """The extra address a confirmation link names, still to confirm. NotFound for a link that is unknown, was
    used or replaced, or whose address was removed; DeadlinePassed for an expired one."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise NotFound(_("this confirmation link is not valid: it was used already, replaced or mistyped"))
    address = ExtraAddress.objects.filter(token_hash=_hash(token)).select_related("contract").first()
    if address is None or address.confirmed_at is not None:
        raise NotFound(_("this confirmation link is not valid: it was used already, replaced or mistyped"))
    if address.link_expires_at is None or now() >= address.link_expires_at:
        raise DeadlinePassed(
            _("this confirmation link expired on %(expired_at)s: ask a user of the contract for a new one"),
            expired_at=address.link_expires_at,
        )
    return address


def confirm_address(token: str, *, ip: str | None = None) -> ExtraAddress:
    """Confirm the extra address the link ``token`` was sent to: from now on it receives the contract's consigne
    e-mails and reminders; the link stops working. Refused as ``address_for_link`` says."""
    address = address_for_link(token)
    address = ExtraAddress.objects.select_for_update().select_related("contract").get(pk=address.pk)
    if address.token_hash != _hash(token) or address.confirmed_at is not None:  # confirmed meanwhile
        raise NotFound(_("this confirmation link is not valid: it was used already, replaced or mistyped"))
    address.confirmed_at, address.token_hash = now(), None
    address.save(update_fields=["confirmed_at", "token_hash"])
    record("extra_address.confirmed", actor=address.email, contract=address.contract, ip=ip, address=address.email)
    return address


# --- who receives what (bulk reads for the publications and the periodic jobs) ----------------------------------


def _accounts(part) -> list[tuple[int, int, str, str, bool | None, bool | None, int | None]]:
    """(contract pk, user pk, address, language, publications, reminders, minutes) of the active accounts holding
    a role on these contracts (the choices None when the account never chose)."""
    rows = Role.objects.filter(contract_id__in=part, user__is_active=True).values_list(
        "contract_id",
        "user_id",
        "user__email",
        "user__language",
        "user__notification_preference__publications",
        "user__notification_preference__reminders",
        "user__notification_preference__reminder_minutes",
    )
    return list(rows)


def _confirmed(part, *, reminders: bool = False) -> Iterable[tuple[int, str, str, bool, int | None]]:
    """(contract pk, address, language, reminders, minutes) of the confirmed extra addresses of these contracts."""
    found = ExtraAddress.objects.filter(contract_id__in=part, confirmed_at__isnull=False)
    if reminders:
        found = found.filter(reminders=True)
    return found.values_list("contract_id", "email", "language", "reminders", "reminder_minutes")


def consigne_recipients(contract_pks: Iterable[int], *, publication: bool) -> dict[int, list[Recipient]]:
    """Who receives the consigne e-mails of each contract, by contract pk: its active accounts (for a
    ``publication``, those that did not switch the publication e-mails off; a modification goes to every one of
    them) and its confirmed extra addresses (``Recipient.extra``) not already among them."""
    found: dict[int, list[Recipient]] = defaultdict(list)
    for part in chunks(sorted(set(contract_pks))):
        seen: set[tuple[int, str]] = set()
        for contract_pk, _user, address, language, publications, _r, _m in _accounts(part):
            seen.add((contract_pk, address))
            if not publication or publications is not False:
                found[contract_pk].append(Recipient(address, language))
        for contract_pk, address, language, _r, _m in _confirmed(part):
            if (contract_pk, address) not in seen:
                seen.add((contract_pk, address))
                found[contract_pk].append(Recipient(address, language, extra=True))
    return found


def reminder_recipients(contract_pks: Iterable[int]) -> dict[int, list[tuple[Recipient, int]]]:
    """Who is reminded of each contract, and how many minutes before HLAR, by contract pk: its active accounts
    (their choice for the contract, else their account's, else the operator's) and its confirmed extra
    addresses; those who switched reminders off are left out."""
    found: dict[int, list[tuple[Recipient, int]]] = defaultdict(list)
    for part in chunks(sorted(set(contract_pks))):
        per_contract = {
            (user_pk, contract_pk): ReminderChoice(enabled, minutes)
            for user_pk, contract_pk, enabled, minutes in ContractReminderChoice.objects.filter(
                contract_id__in=part
            ).values_list("user_id", "contract_id", "reminders", "reminder_minutes")
        }
        seen: set[tuple[int, str]] = set()
        for contract_pk, user_pk, address, language, _p, enabled, minutes in _accounts(part):
            seen.add((contract_pk, address))
            choice = per_contract.get((user_pk, contract_pk)) or ReminderChoice(enabled is not False, minutes)
            if choice.lead is not None:
                found[contract_pk].append((Recipient(address, language), choice.lead))
        for contract_pk, address, language, enabled, minutes in _confirmed(part, reminders=True):
            lead = ReminderChoice(enabled, minutes).lead
            if (contract_pk, address) not in seen and lead is not None:
                seen.add((contract_pk, address))
                found[contract_pk].append((Recipient(address, language, extra=True), lead))
    return found


# --- the reminders sent ---------------------------------------------------------------------------------------


def reminded(day: date) -> set[tuple[str, int, int]]:
    """(address, contract pk, version number) of the reminders sent for ``day``."""
    rows = SentReminder.objects.filter(delivery_day=day).values_list("recipient", "contract_id", "number")
    return set(rows)


def record_reminders(day: date, sent: Iterable[tuple[str, int, int]], moment: datetime) -> None:
    """Note the reminders (address, contract pk, version number) sent for ``day`` at ``moment``. The unique key
    makes a concurrent run that sends the same reminders fail here, rolling back its e-mails."""
    SentReminder.objects.bulk_create(
        [
            SentReminder(recipient=address, contract_id=pk, delivery_day=day, number=number, sent_at=moment)
            for address, pk, number in sent
        ],
        batch_size=1000,
    )


def purge_reminders(before: date) -> int:
    """Forget the reminders sent for the delivery days before ``before``; returns how many."""
    count, _ = SentReminder.objects.filter(delivery_day__lt=before).delete()
    return count
