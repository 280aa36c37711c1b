"""Writing messages to the outbox: each event's e-mails (a template of ``notifications/email/<kind>/``, the
recipient account's language and the data of the change, rendered by the worker when it sends them: a publication
for every contract writes its thousands of e-mails in a moment) and webhook calls, inserted in bulk in the
caller's transaction. A rolled-back
change sends nothing; after a commit that wrote messages, the worker is asked to deliver them at once (it also
looks for due messages every minute). A message with a ``dedupe_key`` already in the outbox is not written again:
that is how the periodic jobs stay idempotent.

The events that concern consignes, reminders and tokens are in ``notifications/events.py``; this module holds the
mechanics and the account events.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.template.loader import get_template
from django.utils import translation

from smartoa.accounts.models import Role, User
from smartoa.core.clock import now
from smartoa.core.sql import chunks, insert_rows
from smartoa.jobs.engine import queue_task
from smartoa.notifications.models import Event, OutboxMessage, Webhook

logger = logging.getLogger(__name__)
Email, Call = OutboxMessage.Kind.EMAIL, OutboxMessage.Kind.WEBHOOK


@dataclass(frozen=True, order=True)
class Recipient:
    """Where an e-mail goes, and the language it is written in; ``extra``: a contract's extra address (no account),
    whose e-mails say why it receives them."""

    email: str
    language: str = "fr"
    extra: bool = False


# --- building messages ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Draft:
    """A message to write to the outbox (``enqueue``): cheaper than a model instance, for publications that write
    thousands."""

    kind: str
    event: str
    recipient: str
    body: str = ""  # a webhook call's JSON
    template: str = ""  # an e-mail's template, rendered in ``language`` from ``context`` (packed) when sent
    language: str = ""
    context: dict = field(default_factory=dict)
    contract_id: int | None = None
    webhook_id: int | None = None
    sensitive: bool = False
    dedupe_key: str | None = None
    delivery_id: uuid.UUID = field(default_factory=uuid.uuid4)
    event_record_id: int | None = None  # the change's event record (notifications/eventlog.py), if one


DELIVER_SOON = "notifications.deliver_soon"  # the queued task that delivers messages just written (jobs.py)
_PLAIN = (str, int, float, bool, type(None))


def pack(value: Any) -> Any:
    """``value`` as JSON can hold it, dates and date-times tagged so that ``unpack`` gives them back: an e-mail's
    context, stored with the message. Dataclasses become dicts (templates read ``item.field`` from both), tuples
    lists."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dict):
        return {str(key): pack(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [pack(item) for item in value]
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: pack(getattr(value, f.name)) for f in fields(value)}
    raise TypeError(f"an e-mail's context holds plain data, not {type(value).__name__}")


def unpack(value: Any) -> Any:
    """The context ``pack`` stored, dates and date-times (aware) given back."""
    if isinstance(value, dict):
        if len(value) == 1 and "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if len(value) == 1 and "$date" in value:
            return date.fromisoformat(value["$date"])
        return {key: unpack(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unpack(item) for item in value]
    return value


def render_email(kind: str, context: dict, language: str) -> tuple[str, str]:
    """(subject, body) of the e-mail ``kind`` in ``language`` (templates ``notifications/email/<kind>/``)."""
    context = {"portal_url": f"{settings.BASE_URL}/", **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        context.update(_known_when_sent(kind, context))
        subject = get_template(f"notifications/email/{kind}/subject.txt").render(context)
        body = get_template(f"notifications/email/{kind}/body.txt").render(context)
    return " ".join(subject.split())[:300], body


def _known_when_sent(kind: str, context: dict) -> dict:
    """What an e-mail says that is read when it is sent rather than when it was written: the contracts a new
    account gives access to (an import writes the roles after the accounts it creates)."""
    if kind != "login":
        return {}
    roles = Role.objects.filter(user__email=context["email"]).select_related("contract")
    contracts = [
        {"contract_id": r.contract.contract_id, "label": r.contract.label, "role": str(r.get_kind_display())}
        for r in roles.order_by("contract__contract_id")
    ]
    return {"contracts": contracts}


def rendered(message: OutboxMessage) -> tuple[str, str]:
    """(subject, body) of an e-mail of the outbox, as the worker sends it (erased: a sensitive one delivered)."""
    return render_email(message.template, unpack(message.context), message.language)


def email(
    kind: str,
    recipient: Recipient,
    context: dict,
    *,
    event: str,
    contract: int | None = None,
    dedupe_key: str | None = None,
    sensitive: bool = False,
    record: int | None = None,
) -> Draft:
    """An e-mail of ``event`` to ``recipient`` (``contract``: the pk it is about, if one), from the template
    ``kind`` and ``context`` (plain data: strings, numbers, dates, dataclasses and lists of them); ``record``: the
    id of the event record it tells."""
    return Draft(
        Email,
        event,
        recipient.email,
        template=kind,
        language=recipient.language,
        context=pack(context),
        contract_id=contract,
        sensitive=sensitive,
        dedupe_key=dedupe_key,
        event_record_id=record,
    )


def webhook_call(event: str, webhook: Webhook | tuple[int, int, str], body: str, *, record: int | None = None) -> Draft:
    """A webhook call of ``event`` posting ``body`` (JSON text, sent as is) to ``webhook`` (a Webhook or its
    (pk, contract pk, url)); ``record``: the id of the event record it tells (its ``X-SmartOA-Event-ID``)."""
    pk, contract_pk, url = (webhook.pk, webhook.contract_id, webhook.url) if isinstance(webhook, Webhook) else webhook
    return Draft(Call, event, url, body=body, contract_id=contract_pk, webhook_id=pk, event_record_id=record)


# --- writing them ---------------------------------------------------------------------------------------------

_COLUMNS = (
    "kind",
    "event",
    "recipient",
    "contract_id",
    "webhook_id",
    "template",
    "language",
    "context",
    "body",
    "sensitive",
    "dedupe_key",
    "delivery_id",
    "event_record_id",
    "status",
    "attempts",
    "next_attempt_at",
    "lease_token",
    "last_error",
    "created_at",
    "updated_at",
)


def existing_keys(keys: Iterable[str]) -> set[str]:
    """Which of these dedupe keys are already in the outbox."""
    found: set[str] = set()
    for part in chunks(sorted(set(keys))):
        rows = OutboxMessage.objects.filter(dedupe_key__in=part).values_list("dedupe_key", flat=True)
        found.update(key for key in rows if key)
    return found


def enqueue(drafts: Sequence[Draft]) -> int:
    """Write ``drafts`` to the outbox in the caller's transaction (in bulk, ``core.sql.insert_rows``: a
    publication for every contract writes tens of thousands and must stay fast), leaving out those whose dedupe key is
    already there, and have them delivered after commit. Returns how many were written. A concurrent run that
    wrote the same dedupe key first makes this insert fail (IntegrityError): its transaction is rolled back and
    sends nothing, and the periodic job finds the work done on its next run."""
    keys = [d.dedupe_key for d in drafts if d.dedupe_key]
    if keys:
        taken = existing_keys(keys)
        drafts = [d for d in drafts if not d.dedupe_key or d.dedupe_key not in taken]
    if not drafts:
        return 0
    at = connection.ops.adapt_datetimefield_value(now())
    uuid_value = OutboxMessage._meta.get_field("delivery_id").get_db_prep_value
    json_value = OutboxMessage._meta.get_field("context").get_db_prep_value
    pending = OutboxMessage.Status.PENDING
    rows = [
        (
            d.kind,
            d.event,
            d.recipient,
            d.contract_id,
            d.webhook_id,
            d.template,
            d.language,
            json_value(d.context, connection),
            d.body,
            d.sensitive,
            d.dedupe_key,
            uuid_value(d.delivery_id, connection),
            d.event_record_id,
            pending,
            0,
            at,
            "",
            "",
            at,
            at,
        )
        for d in drafts
    ]
    insert_rows(OutboxMessage._meta.db_table, _COLUMNS, rows)
    deliver_after_commit(drafts)
    return len(drafts)


class _Kick:
    """After a commit: queue the delivery of the messages the transaction wrote, one task per kind, so that the
    worker's threads send the e-mails and the webhook calls side by side (a publication's thousands of e-mails do
    not hold its webhook calls back)."""

    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = defaultdict(list)

    def __call__(self) -> None:
        for ids in self.ids.values():
            try:
                queue_task(DELIVER_SOON, ids)
            except Exception:  # the queue may be unreachable: the periodic delivery sends them within a minute
                logger.warning(
                    "could not queue the outbox delivery; the periodic run will send the messages", exc_info=True
                )


def deliver_after_commit(drafts: Sequence[Draft]) -> None:
    """Queue the delivery of these messages once the current transaction commits: one queued task per kind and
    transaction (per savepoint level, so that a nested block that is rolled back, or run apart as tests do, has its
    own)."""
    kick = None
    if connection.in_atomic_block:
        here = set(connection.savepoint_ids)
        for entry in connection.run_on_commit:  # (savepoint ids, function, robust)
            sids, func = entry[0], entry[1]
            if isinstance(func, _Kick) and sids == here:
                kick = func
                break
    new = kick is None
    kick = kick or _Kick()
    for draft in drafts:
        kick.ids[draft.kind].append(str(draft.delivery_id))
    if new:  # outside a transaction, this runs it at once: after the ids are in
        transaction.on_commit(kick, robust=True)


# --- who receives what ----------------------------------------------------------------------------------------


def accounts_of(contract_pks: Iterable[int], *, kinds: Sequence[str] | None = None) -> dict[int, list[Recipient]]:
    """The active accounts holding a role (of ``kinds``, default any) on each contract, by contract pk."""
    found: dict[int, list[Recipient]] = defaultdict(list)
    for part in chunks(sorted(set(contract_pks))):
        roles = Role.objects.filter(contract_id__in=part, user__is_active=True)
        if kinds is not None:
            roles = roles.filter(kind__in=kinds)
        for contract_pk, address, language in roles.values_list("contract_id", "user__email", "user__language"):
            found[contract_pk].append(Recipient(address, language))
    return found


def active_webhooks(contract_pks: Iterable[int]) -> dict[int, tuple[int, int, str]]:
    """The active webhook of each contract that has one: contract pk → (webhook pk, contract pk, url)."""
    found: dict[int, tuple[int, int, str]] = {}
    for part in chunks(sorted(set(contract_pks))):
        rows = Webhook.objects.filter(contract_id__in=part, active=True).values_list("pk", "contract_id", "url")
        found.update((contract_pk, (pk, contract_pk, url)) for pk, contract_pk, url in rows)
    return found


def operators() -> list[Recipient]:
    """Who receives the operators' warnings: SMARTOA_OPERATOR_EMAILS, else every active staff account."""
    if settings.SMARTOA_OPERATOR_EMAILS:
        return [Recipient(address, settings.LANGUAGE_CODE) for address in settings.SMARTOA_OPERATOR_EMAILS]
    staff = User.objects.filter(is_staff=True, is_active=True).order_by("email").values_list("email", "language")
    return [Recipient(address, language) for address, language in staff]


# --- account events -------------------------------------------------------------------------------------------


def _login(user: User, password: str, reason: str) -> Draft:
    context = {"email": user.email, "password": password, "reason": reason, "valid_until": user.provisional_until}
    event = "account.reset" if reason == "reset" else "account.created"
    return email("login", Recipient(user.email, user.language), context, event=event, sensitive=True)


def login_email(user: User, password: str, *, reason: str) -> None:
    """E-mail ``user`` its login and provisional password: the account was ``created`` or its second factor
    ``reset`` by the operator. Its context (the password) is erased from the outbox once delivered."""
    enqueue([_login(user, password, reason)])


def login_emails(accounts: Sequence[tuple[User, str]]) -> int:
    """``login_email`` of many new accounts (user, provisional password) at once."""
    return enqueue([_login(user, password, "created") for user, password in accounts])


def password_reset_email(user: User, *, uid: str, token: str) -> None:
    """E-mail ``user`` the link of the forgotten password (``uid`` and ``token`` of Django's reset view), in the
    account's language. Its context (the link) is erased from the outbox once delivered."""
    recipient = Recipient(user.email, user.language)
    context = {"uid": uid, "token": token}
    enqueue([email("password_reset", recipient, context, event="password.reset", sensitive=True)])


def manager_changed(contract, *, new_email: str) -> int:
    """E-mail the contract's active Producteurs that its Gestionnaire is now ``new_email``."""
    holders = accounts_of([contract.pk], kinds=[Role.Kind.HOLDER]).get(contract.pk, [])
    context = {"contract_id": contract.contract_id, "new_email": new_email}
    return enqueue(
        [email("manager_changed", r, context, event="manager.changed", contract=contract.pk) for r in holders]
    )


def purge(before) -> int:
    """Delete the delivered and failed messages written before ``before``; returns how many."""
    done = OutboxMessage.objects.filter(created_at__lt=before).exclude(status=OutboxMessage.Status.PENDING)
    count, _ = done.delete()
    return count


def purge_events(before) -> int:
    """Delete the event records written before ``before`` (kept as long as the outbox keeps its messages): a
    stream resumed from an older id is told to re-read the days (``stream.reset``). Messages still pending that
    point to them lose the link first. Returns how many."""
    old = Event.objects.filter(created_at__lt=before)
    OutboxMessage.objects.filter(event_record__in=old.values("pk")).update(event_record=None)
    count, _ = old.delete()
    return count
