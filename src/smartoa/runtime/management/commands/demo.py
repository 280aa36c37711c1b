"""``smartoa demo``: test environment only — load a demo data set, through the services, and print what a newcomer
needs to log in within a minute: each account's login, password and TOTP secret, and each contract's API token.

Run again, it keeps what exists and gives every account a new password and secret, every contract a new token.
"""

from __future__ import annotations

import secrets
from datetime import time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django_otp.oath import TOTP

from smartoa.accounts.models import User
from smartoa.accounts.roles import ADMINISTRATEUR, LECTURE, OPERATEUR, OperatorRole
from smartoa.accounts.security import base32_secret, confirm_totp, new_secret, set_password
from smartoa.accounts.services import create_account, new_provisional_password
from smartoa.consignes.deadlines import hlar_for, set_hlar
from smartoa.consignes.models import Consigne
from smartoa.consignes.rules import Force
from smartoa.consignes.services import publish
from smartoa.contracts.models import Contract
from smartoa.contracts.services import assign_role, issue_token
from smartoa.core.clock import now
from smartoa.core.management.base import Command as SmartOACommand
from smartoa.domain.calendar import day_bounds, iso, local_day_of, to_local
from smartoa.domain.errors import Conflict, gettext_noop
from smartoa.domain.schedule import ConsigneDocument, Period, no_stop_periods

DEMO_CONTRACTS = [
    ("BOAXXXXX", "Centrale solaire de démonstration", "pv", "15.000", "MWc", "producteur@demo.smart-oa.example"),
    ("BOA00001", "Parc éolien des Crêtes", "wind_onshore", "12.000", "MW", "producteur@demo.smart-oa.example"),
    ("BOA00002", "Éolien en mer du Large", "wind_offshore", "480.000", "MW", "large@demo.smart-oa.example"),
]
# One operator account per role (accounts/roles.py): what each sees and may do in the back office.
OPERATOR_EMAILS = {
    ADMINISTRATEUR: "administrateur@demo.smart-oa.example",
    OPERATEUR: "operateur@demo.smart-oa.example",
    LECTURE: "lecture@demo.smart-oa.example",
}
# An account left at its first login (Gestionnaire of BOAXXXXX): its e-mail in var/mail/ holds a provisional password
# that works, to try the journey a new producer takes (new password, then the authenticator's QR code).
NEW_ACCOUNT_EMAIL = "gestionnaire@demo.smart-oa.example"
ACTOR = "demo"
DEMO_DATA = Force("demo data")


def demo_periods(day):
    """The seed's shape on any day: a stop 11:55–18:00 local."""
    start, end = day_bounds(day)
    stop_start = start.replace(hour=11, minute=55)
    stop_end = start.replace(hour=18)
    return (Period(start, stop_start, 0.0), Period(stop_start, stop_end, 1.0), Period(stop_end, end, 0.0))


def ready_account(email: str, *, role: OperatorRole | None = None) -> tuple[str, str]:
    """The account of ``email`` (created if needed; an operator's in ``role``) with a new password and an enrolled
    authenticator, as after a first login; returns (password, TOTP secret in base32)."""
    user = User.objects.filter(email=email).first() or create_account(
        email, actor=ACTOR, role=role, send_login=False
    )  # no login e-mail: its provisional password would not work once the demo sets the password below
    password = f"Demo-{secrets.token_urlsafe(9)}"
    set_password(user, password, ip=None, reason="set_by_demo")
    secret = new_secret()
    confirm_totp(user, secret, f"{TOTP(bytes.fromhex(secret)).token():06d}", ip=None)
    return password, base32_secret(secret)


class Command(SmartOACommand):
    help = "Load demo data (test environment only) and print the logins, TOTP secrets and API tokens created."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise Conflict(gettext_noop("demo data is refused in production"))
        with transaction.atomic():
            lines = self.load()
        for line in lines:
            self.stdout.write(line)

    def load(self) -> list[str]:
        lines = [
            "Portal: http://localhost:8000/ — log in with an e-mail and password below, then the 6-digit code of",
            "an authenticator app set up with the account's TOTP secret (or: .venv/bin/smartoa totp code EMAIL).",
        ]
        for role, email in OPERATOR_EMAILS.items():
            password, secret = ready_account(email, role=role)
            lines.append(f"operator, role {role.group} (back office): {email} / {password} / TOTP secret {secret}")
        for email in sorted({holder for *_, holder in DEMO_CONTRACTS}):
            password, secret = ready_account(email)
            lines.append(f"producer: {email} / {password} / TOTP secret {secret}")
        newcomer = User.objects.filter(email=NEW_ACCOUNT_EMAIL).first() or create_account(
            NEW_ACCOUNT_EMAIL, actor=ACTOR, send_login=False
        )
        today = local_day_of(now())
        for cid, name, sector, power, unit, holder in DEMO_CONTRACTS:
            contract, _ = Contract.objects.get_or_create(
                contract_id=cid,
                defaults={"name": name, "sector": sector, "installed_power": Decimal(power), "power_unit": unit},
            )
            assign_role(contract, holder, "holder", actor=ACTOR)  # no IPs: the test environment needs none
            if cid == "BOAXXXXX":
                assign_role(contract, NEW_ACCOUNT_EMAIL, "manager", actor=ACTOR)
            plain, _token = issue_token(contract, actor=ACTOR)
            lines.append(f"{cid} ({name}): API token {plain}")
            documents = []
            for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
                if not Consigne.objects.filter(contract=contract, delivery_day=day).exists():
                    periods = demo_periods(day) if cid != "BOA00001" else no_stop_periods(day)
                    documents.append(ConsigneDocument(cid, day, periods))
            if documents:
                publish(documents, actor=ACTOR, force=DEMO_DATA)  # yesterday and today are past their deadline
        tomorrow = today + timedelta(days=1)
        if hlar_for(tomorrow) <= now() + timedelta(minutes=45) and to_local(now()).time() < time(23, 0):
            # Late in the day: keep tomorrow's consignes acknowledgeable so the demo can be tried end to end.
            _, new = set_hlar(tomorrow, time(23, 59), actor=ACTOR, force=DEMO_DATA)
            lines.append(f"demo: HLAR of {tomorrow} postponed to {iso(new)} so that it can still be acknowledged")
        if newcomer.must_change_password:
            password = new_provisional_password(newcomer, actor=ACTOR)
            lines.append(
                f"first login (new password, then the authenticator's QR code): {NEW_ACCOUNT_EMAIL} / provisional "
                f"password {password} (also in its e-mail in var/mail/)"
            )
        else:
            lines.append(f"{NEW_ACCOUNT_EMAIL} has finished its first login (its own password and authenticator)")
        lines.append("API: curl -H 'Authorization: Bearer <token>' http://localhost:8000/api/v1/effacement")
        return lines
