"""A page about one contract reads one contract: the curve page and the statement of one contract issue the same
statements and fetch the same number of rows with 10 and with 1,000 contracts in the database."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from django.db import transaction

from smartoa.billing.services import run_compliance
from smartoa.consignes.services import publish
from smartoa.contracts.models import Contract
from smartoa.domain.calendar import steps
from smartoa.domain.curves import month_days
from smartoa.domain.schedule import ConsigneDocument
from smartoa.metering.services import import_curves
from tests.db_probe import probe
from tests.factories import acknowledge, before_cutoff, make_contract, make_operator, stop_periods

SEPT = date(2025, 9, 1)
CURVE_DAYS = (date(2025, 9, 21), date(2025, 9, 22))


def add_contracts(first: int, last: int) -> None:
    """Contracts BOA{first}…BOA{last - 1}, each with a consigne every day of September (a stop on the 22nd),
    an acknowledgment on the 22nd and a realised curve on the 21st and 22nd; then the month's compliance."""
    with transaction.atomic():
        contracts = [make_contract(f"BOA{n:05d}") for n in range(first, last)]
        documents = [
            ConsigneDocument(c.contract_id, day, stop_periods(day, "11:55", "18:00" if day.day == 22 else "12:00"))
            for c in contracts
            for day in month_days(SEPT)
        ]
        publish(documents, actor="test", at=before_cutoff(SEPT))
    for contract in contracts:
        acknowledge(contract, date(2025, 9, 22))
    instants = [moment.isoformat() for day in CURVE_DAYS for moment in steps(day)]
    frame = pl.DataFrame(
        {
            "contract_id": [c.contract_id for c in contracts for _ in instants],
            "start": instants * len(contracts),
            "energy_kwh": [0.0] * (len(contracts) * len(instants)),
        }
    )
    with transaction.atomic():
        import_curves(frame.write_csv().encode(), source_name=f"curves-{first}.csv", actor="test")
        run_compliance(SEPT, actor="test")


def measure(client) -> dict[str, tuple[int, int]]:
    """(statements, rows fetched) of the curve page and of the statement download of contract BOA00000."""
    pages = {
        "curve page": "/backoffice/contracts/BOA00000/curve/?month=2025-09",
        "curve page (day)": "/backoffice/contracts/BOA00000/curve/?day=2025-09-22",
        "statement": "/backoffice/contracts/BOA00000/statement/2025-09.json",
    }
    found = {}
    for name, url in pages.items():
        client.get(url)  # warm caches (sessions, content types) so that both sizes start alike
        with probe() as seen:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        found[name] = (seen.queries, seen.rows)
    return found


@pytest.mark.django_db
def test_one_contract_pages_read_the_same_with_10_and_1000_contracts(client):
    make_operator(client)
    add_contracts(0, 10)
    small = measure(client)
    add_contracts(10, 1000)
    assert Contract.objects.count() == 1000
    large = measure(client)
    assert large == small
    assert small["statement"][1] < 100  # one contract's rows, not the month's 300 consignes
