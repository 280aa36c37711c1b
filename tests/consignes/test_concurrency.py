"""An acknowledgment racing a modification: real concurrent connections (threads), committed transactions.

Both lock the consigne row (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions serialise
writers), so every acknowledgment names the version that was current when it was written, and no write is
lost.
"""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from smartoa.consignes.acknowledgments import acknowledge
from smartoa.consignes.models import Acknowledgment, ConsigneVersion
from smartoa.consignes.services import modify
from smartoa.domain.calendar import local_day_of
from smartoa.domain.schedule import ConsigneDocument
from tests.factories import publish_day, stop_periods

ROUNDS = 25


def run_together(*actions):
    """Run each action in its own thread, connection and transaction, released at the same instant."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def worker(action):
        try:
            barrier.wait()
            with transaction.atomic():
                action()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_acknowledgments_racing_modifications(make_contract, settings):
    settings.SMARTOA_NOW = None  # the real clock: timestamps must follow the order of the writes
    day = local_day_of(datetime.now(UTC)) + timedelta(days=10)
    contract = make_contract("BOA00001")
    publish_day(contract, day)

    def ack(n):
        return lambda: acknowledge(contract, day, actor=f"api:t{n}", channel="api", ip="192.0.2.1")

    def change(n):
        start = 5 * (n + 1)  # every change differs from all others: stop from 00:05, 00:10, …
        doc = ConsigneDocument(contract.contract_id, day, stop_periods(day, f"{start // 60:02d}:{start % 60:02d}"))
        return lambda: modify([doc], reason=f"race {n}", actor="test")

    errors = []
    for round_ in range(ROUNDS):
        errors += run_together(ack(2 * round_), change(2 * round_), ack(2 * round_ + 1), change(2 * round_ + 1))
    assert errors == []

    versions = list(ConsigneVersion.objects.filter(contract=contract).order_by("number"))
    assert [v.number for v in versions] == list(range(1, 2 * ROUNDS + 2))  # no modification lost or merged
    acks = list(Acknowledgment.objects.filter(consigne__contract=contract).select_related("version"))
    assert len(acks) == 2 * ROUNDS  # no acknowledgment lost
    for a in acks:
        current = max((v for v in versions if v.created_at <= a.acknowledged_at), key=lambda v: v.number)
        assert a.version.number == current.number, f"{a.actor} names v{a.version.number}, current was v{current.number}"
