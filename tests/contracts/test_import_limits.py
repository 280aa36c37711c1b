"""A contracts file is checked to what the columns hold, identically on SQLite and PostgreSQL: a value the database
would truncate, refuse or store unusable is refused with the line and the field named, and nothing is written."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from smartoa.accounts.models import User
from smartoa.consignes.generation import plan_generation
from smartoa.contracts.models import Contract

HEADER = "contract_id,name,sector,installed_power,power_unit,holder_email,manager_email,network_id\n"
GOOD = "BOA00001,Parc A,pv,15,MWc,a@x.fr,,\n"


def import_text(tmp_path, text):
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    call_command("contracts", "import", str(path))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("BOA00002,Parc B,pv,12345678901.5,MWc,b@x.fr,,\n", "installed_power 12345678901.5 is not below 10000000"),
        ("BOA00002,Parc B,pv,10000000,MWc,b@x.fr,,\n", "is not below"),
        ("BOA00002,Parc B,pv,1.2345,MWc,b@x.fr,,\n", "more than 3 decimals"),
        ("BOA00002,Parc B,pv,1e400,MWc,b@x.fr,,\n", "is not below"),
        ("BOA00002,Parc B,pv,NaN,MWc,b@x.fr,,\n", "not a number"),
        ("BOA00002,Parc B,pv,Infinity,MWc,b@x.fr,,\n", "not a number"),
        ("BOA00002,Parc B,pv," + "9" * 5000 + ",MWc,b@x.fr,,\n", "not a number"),
        ("BOA00002," + "x" * 201 + ",pv,15,MWc,b@x.fr,,\n", "name is 201 characters long; at most 200"),
        ("BOA00002,Parc B,pv,15,MWc,b@x.fr,," + "9" * 65 + "\n", "network_id is 65 characters long; at most 64"),
        ("BOA00002,Parc\x00B,pv,15,MWc,b@x.fr,,\n", "name holds a control character"),
        ("BOA00002,Parc B,pv,15,MWc,b\x00@x.fr,,\n", "holder_email"),
        ("BOA\x0000002,Parc B,pv,15,MWc,b@x.fr,,\n", "must be 3-32 upper-case letters and digits"),
        ("BOA00002,Parc B,pv,15,MWc," + "b" * 250 + "@x.fr,,\n", "holder_email: e-mail is 255 characters long"),
        ("BOA00002,Parc B,pv,15,MWc,b@x.fr\n", "the header has 8 fields, this line 6"),
    ],
)
def test_values_beyond_their_column_are_refused_and_nothing_is_written(tmp_path, line, message):
    with pytest.raises(CommandError) as error:
        import_text(tmp_path, HEADER + GOOD + line)
    assert message in str(error.value) and "line 3" in str(error.value)
    assert Contract.objects.count() == 0 and User.objects.count() == 0


@pytest.mark.django_db
def test_a_field_over_the_csv_limit_is_a_message_not_a_traceback(tmp_path):
    with pytest.raises(CommandError, match="line 3: not readable as CSV: field larger than field limit"):
        import_text(tmp_path, HEADER + GOOD + "BOA00002," + "x" * 200_000 + ",pv,15,MWc,b@x.fr,,\n")
    assert Contract.objects.count() == 0


@pytest.mark.django_db
def test_the_largest_accepted_power_round_trips_and_keeps_generation_working(tmp_path):
    import_text(tmp_path, HEADER + "BOA00002,Parc B,wind_offshore,9999999.999,MW,b@x.fr,,\n")
    contract = Contract.objects.get()
    assert str(contract.installed_power) == "9999999.999"
    prices = "start,price\n" + "".join(
        f"2026-01-15T{h:02d}:{m:02d}:00+01:00,-1\n" for h in range(24) for m in (0, 15, 30, 45)
    )
    from datetime import date

    plan = plan_generation(prices, date(2026, 1, 15))
    assert [c.contract_id for c in plan.contracts] == ["BOA00002"]
