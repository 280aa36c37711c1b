"""Monthly statements: content, acknowledged days, compensation, the three formats."""

import csv
import io
import json
import zipfile
from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from smartoa.billing.models import CompensationInput
from smartoa.billing.services import record_compensation_input, run_compliance
from smartoa.billing.statements import build_statements
from smartoa.metering.models import CurveKind
from smartoa.metering.services import import_curves
from tests.factories import at, curve_csv

SEED = date(2025, 9, 22)
SEPT = date(2025, 9, 1)


@pytest.fixture
def month_case(make_contract, make_consigne, load_curves, acknowledge):
    contract = make_contract("BOAXXXXX", power="12")
    v21 = make_consigne(contract, date(2025, 9, 21))
    v22 = make_consigne(contract, SEED, [(at(SEED, 9, 55), at(SEED, 12), 1.0)])
    acknowledge(contract, v21.delivery_day)
    acknowledge(contract, v22.delivery_day)
    make_consigne(contract, SEED, [(at(SEED, 11, 55), at(SEED, 18), 1.0)])  # a v2 voids the acknowledgment
    make_consigne(contract, date(2025, 9, 23))
    load_curves("BOAXXXXX", date(2025, 9, 21), date(2025, 9, 23), overrides={at(SEED, 12): 0.4})
    run_compliance(SEPT, actor="test")
    return contract


def test_statement_content(month_case):
    [statement] = build_statements(SEPT)
    assert statement["contract_id"] == "BOAXXXXX" and statement["month"] == "2025-09"
    [episode] = statement["episodes"]
    assert episode == {
        "start": "2025-09-22T11:55:00+02:00",
        "end": "2025-09-22T18:00:00+02:00",
        "checked_steps": 71,
        "breach_steps": 1,
        "missing_steps": 0,
        "energy_during_stop_kwh": 0.4,
        "energy_neutralised_kwh": 0.0,
        "excess_kwh": 0.4,
    }
    assert statement["days_acknowledged"] == ["2025-09-21"]
    assert statement["days_not_acknowledged"] == ["2025-09-22", "2025-09-23"]
    assert statement["totals"]["days_with_consigne"] == 3 and statement["totals"]["breach_steps"] == 1
    assert statement["compensation"]["status"] == "not_computable"
    assert statement["compensation"]["amount_eur"] is None and statement["compensation"]["reason"]
    assert statement["stale"] is False


def test_compensation_needs_recorded_inputs(month_case):
    record_compensation_input(month_case, SEPT, price=Decimal(50), actor="ops@example.org")
    [statement] = build_statements(SEPT)
    assert statement["stale"] is True  # inputs recorded after the run: computed at the next run
    run_compliance(SEPT, actor="test")
    [statement] = build_statements(SEPT)
    assert statement["compensation"]["status"] == "not_computable"
    assert statement["compensation"]["reason_code"] == "no_producible"
    assert statement["compensation"]["reason"] == "no estimated producible curve recorded"
    rows, moment = [], at(SEED, 0)
    while moment < at(date(2025, 9, 23), 0):
        rows.append(("BOAXXXXX", moment.isoformat(), 1000.0))
        moment = (moment.astimezone(UTC) + timedelta(minutes=5)).astimezone(moment.tzinfo)
    producible = import_curves(curve_csv(rows), source_name="estimate.csv", actor="test", kind=CurveKind.PRODUCIBLE)
    record_compensation_input(month_case, SEPT, price=Decimal(50), producible=producible, actor="ops@example.org")
    assert CompensationInput.objects.count() == 1
    run_compliance(SEPT, actor="test")
    [statement] = build_statements(SEPT)
    compensation = statement["compensation"]
    # 71 checked steps, 1 breaching: 70 × 1000 kWh = 70 MWh × 50 €/MWh.
    assert compensation["status"] == "computed" and compensation["amount_eur"] == 3500.0
    assert compensation["inputs"]["price_eur_per_mwh"] == "50.000"
    assert "estimate.csv" in compensation["inputs"]["producible_source"]


def test_statements_command_writes_three_formats(month_case, tmp_path):
    for fmt in ("json", "csv", "xlsx"):
        call_command("statements", "--month", "2025-09", "--format", fmt, "--out", str(tmp_path))
    document = json.loads((tmp_path / "releve_BOAXXXXX_2025-09.json").read_text())
    assert document["totals"]["checked_steps"] == 71
    lines = list(csv.DictReader(io.StringIO((tmp_path / "releve_BOAXXXXX_2025-09.csv").read_text())))
    assert [line["line"] for line in lines] == ["episode", "total"]
    assert lines[0]["start"] == "2025-09-22T11:55:00+02:00" and lines[0]["breach_steps"] == "1"
    assert lines[1]["not_acknowledged_days"] == "2025-09-22 2025-09-23"
    assert lines[1]["compensation_status"] == "not_computable"
    with zipfile.ZipFile(tmp_path / "releve_BOAXXXXX_2025-09.xlsx") as book:
        strings = book.read("xl/sharedStrings.xml").decode()
    assert "energy_during_stop_kwh" in strings and "2025-09-22T11:55:00+02:00" in strings


def test_statements_command_errors(month_case, tmp_path):
    with pytest.raises(CommandError, match="no compliance run"):
        call_command("statements", "--month", "2025-10", "--format", "json", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="no result for BOANOPE"):
        call_command("statements", "--month", "2025-09", "--out", str(tmp_path), "--contract", "BOANOPE")
