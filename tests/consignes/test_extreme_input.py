"""Extreme input gets a message and a non-zero exit (or a 404 page), never a traceback: huge fields, JSON nested
100,000 deep, numbers of thousands of digits, years 9999 and 0001."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from smartoa.consignes.models import Consigne
from tests.factories import make_operator
from tests.subprocess_env import smartoa


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


DOC = {
    "id": "BOA00001",
    "application_date": "2026-03-29",
    "data": [{"start_date": "2026-03-29T00:00:00+01:00", "end_date": "2026-03-30T00:00:00+02:00", "value": 0.0}],
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"id": "BOA00001", "application_date": "2026-03-29", "data": [], "x": ' + "9" * 5000 + "}", "digits"),
        (json.dumps({**DOC, "id": "BOA" + "0" * 200_000}), "is not a contract id"),
        (json.dumps({**DOC, "id": "BOA\u00000001"}), "is not a contract id"),
        (json.dumps({**DOC, "application_date": "9999-12-31"}), "outside the days handled"),
        (json.dumps({**DOC, "application_date": "0001-01-01"}), "outside the days handled"),
        (
            json.dumps(
                {
                    **DOC,
                    "data": [
                        {"start_date": "9999-12-31T23:00:00-01:00", "end_date": "2026-03-30T00:00:00+02:00", "value": 0}
                    ],
                }
            ),
            "outside the days handled",
        ),
        (json.dumps({**DOC, "data": [{**DOC["data"][0], "value": 1e300}]}), "not allowed"),
    ],
)
def test_publish_refuses_extreme_documents(make_contract, tmp_path, text, message):
    make_contract("BOA00001")
    with pytest.raises(CommandError, match=message):
        call_command("consignes", "publish", write(tmp_path, "p.json", text))
    assert Consigne.objects.count() == 0


@pytest.mark.django_db
def test_modify_refuses_a_reason_with_nul_or_too_long(make_contract, tmp_path):
    make_contract("BOA00001")
    path = write(tmp_path, "p.json", json.dumps(DOC))
    for reason, message in (("a\x00b", "control character"), ("x" * 1001, "at most 1000")):
        with pytest.raises(CommandError, match=message):
            call_command("consignes", "modify", path, "--reason", reason)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [
        ("hlar", "set", "--day", "9999-12-31", "--time", "16:30"),
        ("hlar", "show", "--day", "0001-01-01"),
        ("consignes", "history", "BOA00001", "--day", "9999-12-31"),
        ("compliance", "run", "--month", "9999-12"),
        ("compliance", "run", "--month", "0001-01"),
        ("statements", "--month", "9999-12", "--out", "/tmp/x"),
        ("hlar", "set", "--day", "2026-03-30", "--time", "02:30"),  # D-1 is 29 March: 02:30 does not exist
        ("hlar", "set", "--day", "2026-03-30", "--time", "25:00"),
    ],
)
def test_extreme_dates_are_messages(make_contract, args):
    make_contract("BOA00001")
    with pytest.raises(CommandError):
        call_command(*args)


@pytest.mark.django_db(transaction=True)
def test_the_real_command_exits_1_with_one_line_on_extreme_input(tmp_path, make_contract):
    make_contract("BOA00001")
    deep = smartoa("consignes", "publish", write(tmp_path, "d.json", "[" * 100_000 + "]" * 100_000))
    year = smartoa("hlar", "set", "--day", "9999-12-31", "--time", "16:30")
    prices = smartoa(
        "consignes",
        "generate",
        "--prices",
        write(tmp_path, "p.csv", "start,price\n" + "x" * 200_000 + ",1\n"),
        "--day",
        "2026-03-29",
    )
    for result in (deep, year, prices):
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and result.stderr.strip()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/backoffice/contracts/BOA00001/curve/?day=9999-12-31",
        "/backoffice/contracts/BOA00001/curve/?day=0001-01-01",
        "/backoffice/contracts/BOA00001/curve/?month=9999-12",
        "/backoffice/contracts/BOA00001/curve/?month=0001-01",
        "/backoffice/contracts/BOA00001/statement/9999-12.json",
        "/backoffice/contracts/BOA00001/statement/0001-01.csv",
    ],
)
def test_staff_pages_answer_404_for_dates_out_of_range(client, make_contract, url):
    make_contract("BOA00001")
    make_operator(client)
    assert client.get(url).status_code == 404
