"""An aggregator's account holding many contracts, one of each kind in turn (tomorrow's consigne to acknowledge,
acknowledged, voided by a modification, not published, ready for the API, acknowledged with a token), written
through the services, for the Contrats table and the bulk actions' tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from smartoa.accounts.models import User
from smartoa.accounts.services import create_account, grant_role
from smartoa.consignes.acknowledgments import acknowledge
from smartoa.consignes.services import modify, publish
from smartoa.contracts.models import Contract
from smartoa.contracts.services import add_ips, issue_token
from smartoa.domain.schedule import ConsigneDocument, no_stop_periods
from tests.factories import PUBLIC_IP, clock, paris, stop_periods

NOW = paris("2026-11-24", "10:00")  # the platform's clock: HLAR of the 25th is at 16:30
TOMORROW = date(2026, 11, 25)
KINDS = ("to_do", "done", "voided", "unpublished", "ready", "done_token")


def kind_of(n: int) -> str:
    return KINDS[n % len(KINDS)]


def contract_id(n: int) -> str:
    return f"AGG{n:05d}"


def make_aggregator(count: int, email: str = "aggregator@example.fr", *, first: int = 0) -> User:
    """``email`` holds ``count`` contracts AGG<first>… as Gestionnaire, the n-th of kind ``kind_of(n)``; another
    account holds OTHER00001 (published). The clock must be NOW (the caller's settings)."""
    with transaction.atomic():
        user = User.objects.filter(email=email).first() or create_account(email, actor="test")
        contracts = Contract.objects.bulk_create(
            Contract(
                contract_id=contract_id(n),
                name=f"Parc éolien {n:03d}" if n % 2 else f"Centrale solaire {n:03d}",
                sector="pv",
                installed_power=Decimal(15),
                power_unit="MWc",
            )
            for n in range(first, first + count)
        )
        for c in contracts:
            grant_role(user, c.pk, "manager", actor="test")
        by_kind = {c: kind_of(int(c.contract_id[3:])) for c in contracts}
        documents = [
            ConsigneDocument(
                c.contract_id,
                TOMORROW,
                no_stop_periods(TOMORROW) if kind == "ready" else stop_periods(TOMORROW),
            )
            for c, kind in by_kind.items()
            if kind != "unpublished"
        ]
        publish(documents, actor="test", at=NOW - timedelta(hours=2))
        with clock(NOW - timedelta(hours=1)):
            for c, kind in by_kind.items():
                if kind in ("done", "voided", "done_token"):
                    acknowledge(c, TOMORROW, actor="someone@example.fr", channel="portal")
                if kind in ("ready", "done_token"):
                    issue_token(c, actor="test")
                if kind == "ready":
                    add_ips(c, [PUBLIC_IP], actor="test")
        changed = [
            ConsigneDocument(c.contract_id, TOMORROW, stop_periods(TOMORROW, "12:55", "18:00"))
            for c, kind in by_kind.items()
            if kind == "voided"
        ]
        if changed:
            with clock(NOW - timedelta(minutes=30)):
                modify(changed, reason="incident", actor="test")
        if not Contract.objects.filter(contract_id="OTHER00001").exists():
            other = Contract.objects.create(
                contract_id="OTHER00001", name="Autre", sector="pv", installed_power=Decimal(15), power_unit="MWc"
            )
            grant_role(create_account("other@example.fr", actor="test"), other.pk, "holder", actor="test")
            publish([ConsigneDocument("OTHER00001", TOMORROW, stop_periods(TOMORROW))], actor="test", at=NOW)
    return user
