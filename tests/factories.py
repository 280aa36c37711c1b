"""Test data, written through the same services as the platform (publication, modification, acknowledgment,
curve import, tokens), with the platform's clock set where a deadline matters. ``tests/conftest.py`` exposes
the most used ones as fixtures.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.test import override_settings

from smartoa.consignes.acknowledgments import acknowledge as acknowledge_service
from smartoa.consignes.models import Consigne
from smartoa.consignes.rules import Force
from smartoa.consignes.services import modify, publish
from smartoa.contracts.models import Contract
from smartoa.contracts.services import issue_token
from smartoa.domain.calendar import PARIS, day_bounds, iso, steps
from smartoa.domain.schedule import ConsigneDocument, Period
from smartoa.metering.services import import_curves

PUBLIC_IP = "80.12.34.56"  # a global unicast address (documentation ranges are refused by the allow-list)
PUBLIC_IP_2 = "2a01:e0a:1:2::7"


# --- time -------------------------------------------------------------------------------------------------


def paris(day: str, hhmm: str) -> datetime:
    """An aware Europe/Paris instant: paris("2025-09-21", "16:29")."""
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), tzinfo=PARIS)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """An aware Europe/Paris instant on ``day``."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=PARIS)


@contextmanager
def clock(moment: datetime):
    """The platform's clock frozen at ``moment`` (SMARTOA_NOW) inside the block."""
    with override_settings(SMARTOA_NOW=moment):
        yield


# --- contracts and tokens ---------------------------------------------------------------------------------


def make_contract(contract_id="BOAXXXXX", *, sector="pv", power="15", unit=None, name=None, active=True) -> Contract:
    """A contract (setup data: the import service needs accounts, which most tests do not)."""
    return Contract.objects.create(
        contract_id=contract_id,
        name=name or f"Installation {contract_id}",
        sector=sector,
        installed_power=Decimal(power),
        power_unit=unit or ("MWc" if sector == "pv" else "MW"),
        active=active,
    )


def make_token(contract: Contract) -> str:
    """A new token for ``contract`` (revoking its previous one), in plain text."""
    with transaction.atomic():
        plain, _ = issue_token(contract, actor="test")
    return plain


# --- consignes --------------------------------------------------------------------------------------------


def stop_periods(day: date, start: str = "11:55", end: str = "18:00") -> tuple[Period, ...]:
    """The day with one stop [start, end) local time (default: the seed's 11:55–18:00)."""
    first, last = day_bounds(day)
    t0, t1 = paris(day.isoformat(), start), paris(day.isoformat(), end)
    return (Period(first, t0, 0.0), Period(t0, t1, 1.0), Period(t1, last, 0.0))


def periods_with(day: date, stops=()) -> tuple[Period, ...]:
    """The day's schedule with the given stops [(start, end, value), …] and 0.0 elsewhere."""
    start, end = day_bounds(day)
    periods, cursor = [], start
    for a, b, value in sorted(stops):
        if a > cursor:
            periods.append(Period(cursor, a, 0.0))
        periods.append(Period(a, b, float(value)))
        cursor = b
    if cursor < end:
        periods.append(Period(cursor, end, 0.0))
    return tuple(periods)


def as_json(contract_id: str, day: date, periods) -> dict:
    """The API document (without update_date) of a schedule."""
    return {"id": contract_id, "application_date": day.isoformat(), "data": [p.as_json() for p in periods]}


def before_cutoff(day: date) -> datetime:
    """A moment when ``day``'s consigne can still be changed and acknowledged: D−2 at noon."""
    return at(day - timedelta(days=2), 12)


# Setup data may be published for any day and contract: the publication rules are tested on the services and
# through every door (tests/consignes/test_doors.py), not on each test's history.
TEST_DATA = Force("test data")


def publish_day(
    contract: Contract, day: date, periods=None, *, moment: datetime | None = None, force: Force | None = TEST_DATA
):
    """Publish version 1 of ``contract``'s consigne for ``day`` (stamped ``moment``), forced past the
    publication rules unless ``force=None``; returns the Published."""
    with transaction.atomic():
        doc = ConsigneDocument(contract.contract_id, day, periods or stop_periods(day))
        return publish([doc], actor="test", at=moment, force=force)[0]


def modify_day(contract: Contract, day: date, periods, reason: str = "incident", *, moment: datetime | None = None):
    """An incident change of ``contract``'s consigne for ``day``, at ``moment`` if given (else at the current
    clock); returns the new version."""
    with transaction.atomic():
        if moment is None:
            return modify([ConsigneDocument(contract.contract_id, day, periods)], reason=reason, actor="test")[0]
        with clock(moment):
            return modify([ConsigneDocument(contract.contract_id, day, periods)], reason=reason, actor="test")[0]


def make_consigne(contract: Contract, day: date, stops=(), *, moment: datetime | None = None):
    """The next version of ``contract``'s consigne for ``day`` with ``stops`` [(start, end, value), …]: a
    publication if there is none yet, else a modification; made at ``moment`` (default: before the day's
    change deadline). Returns the current version."""
    moment = moment or before_cutoff(day)
    periods = periods_with(day, stops)
    if Consigne.objects.filter(contract=contract, delivery_day=day).exists():
        modify_day(contract, day, periods, moment=moment)
    else:
        publish_day(contract, day, periods, moment=moment)
    return Consigne.objects.select_related("current_version").get(contract=contract, delivery_day=day).current_version


def acknowledge(contract: Contract, day: date, *, moment: datetime | None = None, **kwargs):
    """Acknowledge ``contract``'s consigne of ``day`` at ``moment`` (default: before its HLAR)."""
    kwargs.setdefault("actor", "test")
    kwargs.setdefault("channel", "portal")
    with transaction.atomic(), clock(moment or before_cutoff(day)):
        return acknowledge_service(contract, day, **kwargs)


# --- curves -----------------------------------------------------------------------------------------------


def curve_csv(rows) -> bytes:
    return ("contract_id,start,energy_kwh\n" + "".join(f"{c},{s},{e}\n" for c, s, e in rows)).encode()


def load_curves(contract_id, first, last=None, value=0.0, overrides=None, skip=(), name="test.csv"):
    """Import a constant curve (``value`` kWh per step) for ``contract_id`` over [first, last], with
    ``overrides`` {instant: value} and the ``skip`` instants left out."""
    overrides = {o.astimezone(UTC): v for o, v in (overrides or {}).items()}
    skipped = {s.astimezone(UTC) for s in skip}
    rows, day = [], first
    while day <= (last or first):
        for moment in steps(day):
            key = moment.astimezone(UTC)
            if key not in skipped:
                rows.append((contract_id, iso(moment), overrides.get(key, value)))
        day += timedelta(days=1)
    with transaction.atomic():
        return import_curves(curve_csv(rows), source_name=name, actor="test")


# --- accounts ---------------------------------------------------------------------------------------------


def signed_in(client, user) -> None:
    """Sign ``client`` in as ``user`` past both login steps: its password is no longer provisional and its
    session is verified with a confirmed authenticator (the portal's middleware lets nothing else through)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if user.must_change_password:
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def make_operator(client, email: str = "ops@example.org", role: str = "administrateur", **extra):
    """A staff account in ``role`` (``accounts/roles.py``: lecture, operateur or administrateur, the default),
    signed in on ``client`` past both steps."""
    from django.contrib.auth.models import Group

    from smartoa.accounts.models import User
    from smartoa.accounts.roles import role_named

    user = User.objects.create_user(email, "a long password 123", is_staff=True, **extra)
    user.groups.add(Group.objects.get(name=role_named(role).group))
    signed_in(client, user)
    return user


# --- notifications ----------------------------------------------------------------------------------------


def deliver_outbox(**kwargs):
    """Deliver the due outbox messages now, as the worker would (``deliver_due``); returns its counts."""
    from smartoa.notifications.delivery import deliver_due

    return deliver_due(**kwargs)


def outbox(**filters) -> list:
    """The outbox messages matching ``filters`` (e.g. ``kind="webhook"``, ``recipient=...``), oldest first."""
    from smartoa.notifications.models import OutboxMessage

    return list(OutboxMessage.objects.filter(**filters).order_by("pk"))


@dataclass(frozen=True)
class Email:
    recipient: str
    subject: str
    body: str


def emails(**filters) -> list[Email]:
    """The outbox's e-mails matching ``filters`` (e.g. ``event="acknowledgment.reminder"``), oldest first, written
    out as the worker sends them."""
    from smartoa.notifications.outbox import rendered

    return [Email(m.recipient, *rendered(m)) for m in outbox(kind="email", **filters)]


def add_account(contract: Contract, email: str, kind: str = "holder", *, language: str = "fr"):
    """Give ``email`` (created if needed, through the services: its login e-mail goes to the outbox) the role
    ``kind`` on ``contract``; returns the account."""
    from smartoa.accounts.models import User
    from smartoa.accounts.services import set_language
    from smartoa.contracts.services import assign_role

    with transaction.atomic():
        assign_role(contract, email, kind, actor="test")
        user = User.objects.get(email=email)
        if user.language != language:
            set_language(user, language)
    return user
