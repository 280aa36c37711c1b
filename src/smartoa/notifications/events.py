"""The outbox messages of the consigne, reminder and token events: what each event sends to whom. The consigne,
HLAR and token-expiry events first write their event records (``eventlog.py``, one per change and contract), which
their e-mails and webhook calls point to and the event stream sends.

- ``consignes_changed``: a consigne published or modified: one e-mail per recipient (an account, or a contract's
  confirmed extra address; ``preferences.consigne_recipients``) listing its contracts' new consignes, one webhook
  call per contract with an active webhook (the body is the version's API document).
- ``acknowledgment_reminders``: the recipients (``preferences.reminder_recipients``) of contracts that have not
  acknowledged a day's current version.
- ``missing_acknowledgments``: the operators' warning at HLAR, once per day and operator.
- ``token_expiring``: a token expires soon, once per token, threshold and account.
- ``hlar_changed``: a day's HLAR moved: an e-mail per recipient of the contracts with a consigne that day, a
  webhook call (event ``hlar.changed``) per contract with an active webhook.
- ``webhook_test``: a signed test call to a contract's webhook.

Callers (services and periodic jobs) own the transaction; see ``outbox.py`` for the mechanics.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TypeVar

from smartoa.core.clock import now
from smartoa.domain.calendar import iso, to_local
from smartoa.domain.schedule import Period
from smartoa.notifications.eventlog import EventDraft, write
from smartoa.notifications.models import Webhook
from smartoa.notifications.outbox import (
    Draft,
    Recipient,
    accounts_of,
    active_webhooks,
    email,
    enqueue,
    existing_keys,
    operators,
    webhook_call,
)
from smartoa.notifications.preferences import consigne_recipients

MISSING_SHOWN = 500  # contracts named in the operators' warning (the back office has the whole list)


@dataclass(frozen=True)
class ConsigneNotice:
    """A new version of a contract's consigne, as the e-mails and webhooks tell it."""

    contract_pk: int
    contract_id: str
    label: str
    day: date
    version: int
    periods: tuple[Period, ...]
    document: str  # the version's API document, posted as is to the webhook
    hlar: datetime


@lru_cache(maxsize=4096)
def stop_windows(periods: tuple[Period, ...]) -> tuple[tuple[str, str, str], ...]:
    """The stops of a schedule as local (start, end, value) texts: ("11:55", "18:00", "") for a stop, the value
    ("0.4") for a limitation; contiguous periods of the same value are one window."""
    windows: list[list] = []
    for period in periods:
        if period.value <= 0:
            continue
        if windows and windows[-1][1] == period.start and windows[-1][2] == period.value:
            windows[-1][1] = period.end
        else:
            windows.append([period.start, period.end, period.value])
    return tuple(
        (
            to_local(start).strftime("%H:%M"),
            to_local(end).strftime("%H:%M"),
            "" if value >= 1 else f"{value:g}",
        )
        for start, end, value in windows
    )


def _item(notice: ConsigneNotice) -> dict:
    return {
        "contract_id": notice.contract_id,
        "label": notice.label,
        "day": notice.day,
        "version": notice.version,
        "stops": stop_windows(notice.periods),
        "hlar": notice.hlar,
    }


T = TypeVar("T")


def per_recipient(pairs: Iterable[tuple[Recipient, T]]) -> dict[Recipient, list[T]]:
    """The items of each recipient, one e-mail per address: an address that is an account's for one contract and
    an extra address of another gets one e-mail, in the account's language."""
    chosen: dict[str, Recipient] = {}
    items: dict[str, list[T]] = defaultdict(list)
    for recipient, item in pairs:
        known = chosen.get(recipient.email)
        if known is None or (known.extra and not recipient.extra):
            chosen[recipient.email] = recipient
        items[recipient.email].append(item)
    return {chosen[address]: items[address] for address in sorted(items)}


def consignes_changed(event: str, notices: Sequence[ConsigneNotice], *, reason: str = "") -> int:
    """Event records and messages for ``event`` (``consigne.published`` or ``consigne.modified``, with the
    change's ``reason``): a record per notice (contract and day), an e-mail per recipient of the contracts
    concerned (their accounts, but for a publication those that switched its e-mails off, and their confirmed
    extra addresses; it points to the record when it tells one), a webhook call per contract that has one. Returns how
    many messages were written; contracts without recipients or webhook cost a few lookups."""
    pks = {notice.contract_pk for notice in notices}
    records = dict(
        zip(
            ((n.contract_pk, n.day) for n in notices),
            write([EventDraft(event, n.contract_pk, n.day, n.version) for n in notices]),
            strict=True,
        )
    )
    recipients = consigne_recipients(pks, publication=event != "consigne.modified")
    hooks = active_webhooks(pks)
    grouped = per_recipient(
        (recipient, notice) for notice in notices for recipient in recipients.get(notice.contract_pk, ())
    )
    kind = "consigne_modified" if event == "consigne.modified" else "consigne_published"
    messages = []
    for recipient, items in grouped.items():
        items.sort(key=lambda n: (n.day, n.contract_id))
        contracts = {n.contract_pk for n in items}
        context = {"items": [_item(n) for n in items], "reason": reason, "count": len(items), "extra": recipient.extra}
        about = next(iter(contracts)) if len(contracts) == 1 else None
        record = records[items[0].contract_pk, items[0].day] if len(items) == 1 else None
        messages.append(email(kind, recipient, context, event=event, contract=about, record=record))
    messages += [
        webhook_call(event, hooks[n.contract_pk], n.document, record=records[n.contract_pk, n.day])
        for n in notices
        if n.contract_pk in hooks
    ]
    return enqueue(messages)


@dataclass(frozen=True)
class HlarChange:
    """A delivery day's HLAR moved from ``previous`` to ``hlar``; changes are accepted until ``cutoff``."""

    day: date
    previous: datetime
    hlar: datetime
    cutoff: datetime
    earlier: bool  # moved earlier (else postponed); a field, not a property: the e-mail's context keeps fields


def hlar_changed(change: HlarChange, contracts: Sequence[tuple[int, str, str]]) -> int:
    """Tell the contracts ``(pk, id, label)`` that ``change.day``'s HLAR moved: an event record per contract, one
    e-mail per recipient (every
    active account of the contracts and their confirmed extra addresses) naming its contracts, one ``hlar.changed``
    webhook call per contract that has one. Returns how many messages were written."""
    pks = {pk for pk, _, _ in contracts}
    moved = {"hlar": iso(change.hlar), "previous_hlar": iso(change.previous)}
    records = dict(
        zip(
            (pk for pk, _, _ in contracts),
            write([EventDraft("hlar.changed", pk, change.day, data=moved) for pk, _, _ in contracts]),
            strict=True,
        )
    )
    recipients = consigne_recipients(pks, publication=False)
    hooks = active_webhooks(pks)
    grouped = per_recipient(
        (recipient, (pk, contract_id, label))
        for pk, contract_id, label in contracts
        for recipient in recipients.get(pk, ())
    )
    messages = []
    for recipient, items in grouped.items():
        items.sort(key=lambda item: item[1])
        context = {
            "change": change,
            "items": [{"contract_id": cid, "label": label} for _, cid, label in items],
            "count": len(items),
            "extra": recipient.extra,
        }
        about = items[0][0] if len(items) == 1 else None
        record = records[about] if about is not None else None
        messages.append(email("hlar_changed", recipient, context, event="hlar.changed", contract=about, record=record))
    for pk, contract_id, _ in contracts:
        if pk in hooks:
            body = {
                "event": "hlar.changed",
                "id": contract_id,
                "application_date": change.day.isoformat(),
                "hlar": iso(change.hlar),
                "previous_hlar": iso(change.previous),
                "change_deadline": iso(change.cutoff),
                "sent_at": iso(now()),
            }
            messages.append(webhook_call("hlar.changed", hooks[pk], json.dumps(body), record=records[pk]))
    return enqueue(messages)


@dataclass(frozen=True)
class Reminder:
    """A contract whose current version of the day's consigne is not acknowledged."""

    contract_pk: int
    contract_id: str
    label: str
    version: int


def acknowledgment_reminders(day: date, hlar: datetime, reminders: Mapping[Recipient, Sequence[Reminder]]) -> int:
    """One e-mail per recipient (an account or an extra address), naming its contracts that must still
    acknowledge ``day`` before ``hlar``. Returns how many e-mails were written."""
    messages = []
    for recipient, due in sorted(reminders.items()):
        items = sorted(due, key=lambda r: r.contract_id)
        context = {"day": day, "hlar": hlar, "items": items, "count": len(items), "extra": recipient.extra}
        about = items[0].contract_pk if len(items) == 1 else None
        messages.append(email("reminder", recipient, context, event="acknowledgment.reminder", contract=about))
    return enqueue(messages)


def _missing_key(day: date, recipient: Recipient) -> str:
    return f"acknowledgment.missing:{day.isoformat()}:{recipient.email}"


def operators_to_warn(day: date) -> list[Recipient]:
    """The operators not warned yet of the contracts that missed ``day``'s HLAR."""
    recipients = operators()
    taken = existing_keys(_missing_key(day, r) for r in recipients)
    return [r for r in recipients if _missing_key(day, r) not in taken]


def missing_acknowledgments(
    day: date, hlar: datetime, missing: Sequence[tuple[str, str]], recipients: Sequence[Recipient]
) -> int:
    """The operators' warning at ``hlar``: the (contract id, label) that did not acknowledge ``day``, to each of
    ``recipients``, once per day and operator (dedupe key). Returns how many e-mails were written."""
    shown = sorted(missing)[:MISSING_SHOWN]
    context = {"day": day, "hlar": hlar, "items": shown, "count": len(missing), "more": len(missing) - len(shown)}
    messages = [
        email(
            "operators_missing",
            recipient,
            context,
            event="acknowledgment.missing",
            dedupe_key=_missing_key(day, recipient),
        )
        for recipient in recipients
    ]
    return enqueue(messages)


@dataclass(frozen=True)
class TokenWarning:
    """An active token that expires within ``days`` days."""

    token_pk: int
    prefix: str
    expires_at: datetime
    contract_pk: int
    contract_id: str
    label: str
    days: int  # the warning threshold reached (30, 7)


def token_expiring(warnings: Sequence[TokenWarning]) -> int:
    """An event record per token and threshold, and an e-mail to each account of the tokens' contracts, once per
    token, threshold and account (dedupe keys). Returns how many e-mails were written."""
    records = write(
        [
            EventDraft(
                "token.expiring",
                w.contract_pk,
                data={"token_prefix": w.prefix, "expires_at": iso(w.expires_at)},
                key=f"token.expiring:{w.token_pk}:{w.days}",
            )
            for w in warnings
        ]
    )
    record_of = {(w.token_pk, w.days): pk for w, pk in zip(warnings, records, strict=True)}
    recipients = accounts_of(w.contract_pk for w in warnings)
    wanted = [
        (warning, recipient, f"token.expiring:{warning.token_pk}:{warning.days}:{recipient.email}")
        for warning in warnings
        for recipient in recipients.get(warning.contract_pk, ())
    ]
    taken = existing_keys(key for _, _, key in wanted)
    messages = [
        email(
            "token_expiring",
            recipient,
            {"warning": warning},
            event="token.expiring",
            contract=warning.contract_pk,
            dedupe_key=key,
            record=record_of[warning.token_pk, warning.days],
        )
        for warning, recipient, key in wanted
        if key not in taken
    ]
    return enqueue(messages)


def webhook_test(webhook: Webhook) -> Draft:
    """A ``test`` call to ``webhook`` (a small signed JSON body naming the contract), written to the outbox."""
    body = json.dumps({"event": "test", "id": webhook.contract.contract_id, "sent_at": iso(now())})
    message = webhook_call("test", webhook, body)
    enqueue([message])
    return message
