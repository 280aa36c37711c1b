"""``smartoa demo``: test environment only — load a demo data set and print the logins and tokens created."""

import secrets
from datetime import time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction

from smartoa.accounts.models import User
from smartoa.consignes.deadlines import hlar_for, set_hlar
from smartoa.consignes.models import Consigne
from smartoa.consignes.services import publish
from smartoa.contracts.models import Contract
from smartoa.contracts.services import assign_role, issue_token
from smartoa.core.clock import now
from smartoa.core.management.base import Command as SmartOACommand
from smartoa.domain.calendar import day_bounds, iso, local_day_of, to_local
from smartoa.domain.schedule import ConsigneDocument, Period, no_stop_periods

DEMO_CONTRACTS = [
    ("BOAXXXXX", "Centrale solaire de démonstration", "pv", "15.000", "MWc", "producteur@demo.smart-oa.example"),
    ("BOA00001", "Parc éolien des Crêtes", "wind_onshore", "12.000", "MW", "producteur@demo.smart-oa.example"),
    ("BOA00002", "Éolien en mer du Large", "wind_offshore", "480.000", "MW", "large@demo.smart-oa.example"),
]
OPERATOR_EMAIL = "operateur@demo.smart-oa.example"


def demo_periods(day):
    """The seed's shape on any day: a stop 11:55–18:00 local."""
    start, end = day_bounds(day)
    stop_start = start.replace(hour=11, minute=55)
    stop_end = start.replace(hour=18)
    return (Period(start, stop_start, 0.0), Period(stop_start, stop_end, 1.0), Period(stop_end, end, 0.0))


class Command(SmartOACommand):
    help = "Load demo data (test environment only) and print the logins and API tokens created."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("demo data is refused in production")
        with transaction.atomic():
            lines = self.load()
        for line in lines:
            self.stdout.write(line)

    def load(self) -> list[str]:
        actor = "demo"
        lines = []
        operator_password = secrets.token_urlsafe(9)
        operator = User.objects.filter(email=OPERATOR_EMAIL).first() or User.objects.create_superuser(OPERATOR_EMAIL)
        operator.set_password(operator_password)
        operator.save()
        lines.append(f"operator (admin, http://localhost:8000/admin/): {OPERATOR_EMAIL} / {operator_password}")
        today = local_day_of(now())
        for email in sorted({holder for *_, holder in DEMO_CONTRACTS}):
            password = secrets.token_urlsafe(9)
            user = User.objects.filter(email=email).first() or User.objects.create_user(email)
            user.set_password(password)
            user.must_change_password = True
            user.save()
            lines.append(f"producer login: {email} / {password} (provisional: change it and enrol TOTP)")
        for cid, name, sector, power, unit, holder in DEMO_CONTRACTS:
            contract, _ = Contract.objects.update_or_create(
                contract_id=cid,
                defaults={"name": name, "sector": sector, "installed_power": Decimal(power), "power_unit": unit},
            )
            assign_role(contract, holder, "holder", actor=actor)  # no IPs: the test environment needs none
            plain, _ = issue_token(contract, actor=actor)
            lines.append(f"{cid} ({name}): API token {plain}")
            documents = []
            for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
                if not Consigne.objects.filter(contract=contract, delivery_day=day).exists():
                    periods = demo_periods(day) if cid != "BOA00001" else no_stop_periods(day)
                    documents.append(ConsigneDocument(cid, day, periods))
            publish(documents, actor=actor) if documents else None
        tomorrow = today + timedelta(days=1)
        if hlar_for(tomorrow) <= now() + timedelta(minutes=45) and to_local(now()).time() < time(23, 0):
            # Late in the day: keep tomorrow's consignes acknowledgeable so the demo can be tried end to end.
            _, new = set_hlar(tomorrow, time(23, 59), actor=actor, force=True)
            lines.append(f"demo: HLAR of {tomorrow} postponed to {iso(new)} so that it can still be acknowledged")
        lines.append("try: curl -H 'Authorization: Bearer <token>' http://localhost:8000/api/v1/effacement")
        return lines
