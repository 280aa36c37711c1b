"""The sandbox: a producer asks for a test consigne for their own contract, in the test environment only, to check
their integration end to end (API, event stream, webhook, acknowledgment) before going live.

The test consigne goes through the one write path (``services.publish``, or ``services.modify`` when the day
already has a version): same rules (the day's change deadline, the contract's eligibility), same audit (marked
``sandbox``), same e-mails, webhook calls and events. Callers own the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext_noop

from smartoa.audit.models import AuditEvent
from smartoa.audit.services import record
from smartoa.consignes.deadlines import cutoff_for_hlar, hlars_for
from smartoa.consignes.models import ConsigneVersion
from smartoa.consignes.queries import current_version
from smartoa.consignes.services import modify, publish
from smartoa.contracts.models import Contract
from smartoa.core.clock import now
from smartoa.domain.calendar import local_day_of
from smartoa.domain.deadlines import is_open
from smartoa.domain.errors import Conflict, DeadlinePassed, NotFound
from smartoa.domain.schedule import ConsigneDocument, Period
from smartoa.domain.windows import Window, parse_clock, schedule_of

ACTION = "consigne.sandbox"  # the audit action counted by the rate limit
WINDOWS = (("12:00", "14:00"), ("13:00", "15:00"))  # a test day's stop; the next version moves it
LOOK_AHEAD_DAYS = 14  # the default day is searched this far
REASON = "Consigne de test (bac à sable) / test consigne (sandbox)"
PERIOD = timedelta(hours=1)  # the rate limit's period: SMARTOA_SANDBOX_PER_HOUR test consignes per contract


class SandboxClosed(NotFound):
    """The sandbox does not exist in production."""


class TooManyTestConsignes(Conflict):
    code = "rate_limited"

    def __init__(self, message_template: str, *, retry_after: int, **params: object):
        super().__init__(message_template, **params)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SandboxConsigne:
    """A test consigne just published (``modified`` False) or modified: its version and its stop window."""

    version: ConsigneVersion
    modified: bool
    window: Window

    @property
    def day(self) -> date:
        return self.version.delivery_day


def available() -> bool:
    """Whether this environment has the sandbox (the test environment only)."""
    return not settings.PRODUCTION


def next_open_day(moment: datetime) -> date:
    """The first day, from today (Paris), whose change deadline (HLAR − cutoff) has not passed at ``moment``."""
    today = local_day_of(moment)
    days = [today + timedelta(days=n) for n in range(LOOK_AHEAD_DAYS)]
    hlars = hlars_for(days)
    for day in days:
        if is_open(moment, cutoff_for_hlar(hlars[day])):
            return day
    return days[-1]  # unreachable with a sane HLAR; the services then refuse it with the usual error


def sandbox_schedule(day: date, current: ConsigneVersion | None) -> tuple[Window, tuple[Period, ...]]:
    """The test day's stop window and full schedule: the first of ``WINDOWS`` whose schedule differs from the
    current version (a modification must change something). DST days are handled by the domain helpers."""
    for start, end in WINDOWS:
        window = Window(parse_clock(day, start), parse_clock(day, end))
        periods = schedule_of(day, [window])
        if current is None or current.periods != [p.as_json() for p in periods]:
            break
    return window, periods


def _check_rate(contract: Contract, moment: datetime) -> None:
    """Refuse (TooManyTestConsignes, with the seconds to wait) past SMARTOA_SANDBOX_PER_HOUR test consignes of the
    contract in the last hour."""
    limit = settings.SMARTOA_SANDBOX_PER_HOUR
    recent = list(
        AuditEvent.objects.filter(action=ACTION, contract=contract, at__gt=moment - PERIOD)
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return
    free_at = recent[-1] + PERIOD
    raise TooManyTestConsignes(
        gettext_noop("at most %(count)s test consignes per contract per hour; the next one can be asked for at %(at)s"),
        count=limit,
        at=free_at,
        retry_after=max(1, int((free_at - moment).total_seconds()) + 1),
    )


def _check_open(day: date, moment: datetime) -> None:
    hlar = hlars_for([day])[day]
    cutoff = cutoff_for_hlar(hlar)
    if not is_open(moment, cutoff):
        raise DeadlinePassed(
            gettext_noop(
                "%(day)s: publication and changes closed at %(cutoff)s (HLAR %(hlar)s − %(minutes)s min); ask for "
                "a test consigne for a later day"
            ),
            day=day,
            cutoff=cutoff,
            hlar=hlar,
            minutes=settings.SMARTOA_MODIFICATION_CUTOFF_MINUTES,
        )


def request_test_consigne(contract_pk: int, *, actor: str, channel: str, day: date | None = None) -> SandboxConsigne:
    """Publish a test consigne of contract ``contract_pk`` for ``day`` (default: the next day still open for
    changes), or a new version of it when the day is already published. Refused in production (SandboxClosed, a
    404), past the rate limit (TooManyTestConsignes), for a day whose change deadline passed (DeadlinePassed), and
    by every rule of the services.

    Changes: a consigne version (services: their audit record marked ``sandbox``, e-mails, webhook calls,
    events) and an audit record ``consigne.sandbox`` (``channel``: api or portal; the address: the edge's
    ``audit.services.client_address``).
    """
    if not available():
        raise SandboxClosed(gettext_noop("the sandbox exists in the test environment only"))
    contract = Contract.objects.select_for_update().get(pk=contract_pk)  # one request of a contract at a time
    moment = now()
    _check_rate(contract, moment)
    day = day or next_open_day(moment)
    _check_open(day, moment)
    current = current_version(contract.pk, day)
    window, periods = sandbox_schedule(day, current)
    document = ConsigneDocument(contract.contract_id, day, periods)
    details = {"sandbox": True}
    if current is None:
        publish([document], actor=actor, contracts={contract.contract_id: contract}, audit_details=details)
        version = ConsigneVersion.objects.get(contract=contract, delivery_day=day, number=1)
    else:
        [version] = modify([document], reason=REASON, actor=actor, audit_details=details)
    record(ACTION, actor=actor, contract=contract, day=day.isoformat(), version=version.number, channel=channel)
    return SandboxConsigne(version, current is not None, window)
