"""``smartoa consignes generate``: preview grouped by schedule, exclusions, one-transaction publication."""

import json
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from smartoa.consignes.models import Consigne, ConsigneVersion
from smartoa.consignes.services import VersionFactory
from smartoa.domain.calendar import STEP_15, iso, parse_instant, steps
from smartoa.domain.schedule import ConsigneDocument, render_document
from tests.factories import publish_day, stop_periods

SEED = (Path(__file__).parent.parent / "data" / "seed_effacement.json").read_text()
DAY = date(2025, 9, 22)


def price_file(tmp_path, day=DAY, negative=range(48, 72), name="prices.csv"):
    lines = ["start,price"] + [
        f"{iso(moment)},{-12.5 if n in negative else 35.2}" for n, moment in enumerate(steps(day, STEP_15))
    ]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(autouse=True)
def _before_every_deadline(settings):
    """The platform's clock before the change deadline of every day published here (the deadline itself is
    tested in test_doors.py)."""
    settings.SMARTOA_NOW = parse_instant("2025-03-01T12:00:00+01:00")


@pytest.fixture
def contracts(make_contract):
    """Three eligible contracts and one too small to be in scope (5 MWc of PV)."""
    return [
        make_contract("BOA00001"),
        make_contract("BOA00002", sector="wind_onshore", power="12"),
        make_contract("BOAXXXXX"),
        make_contract("BOASMALL", power="5"),
    ]


def test_preview_groups_identical_schedules_and_writes_nothing(contracts, tmp_path, capsys):
    call_command("consignes", "generate", "--prices", price_file(tmp_path), "--day", "2025-09-22")
    out = capsys.readouterr().out
    assert "3 contracts: stop 11:55–18:00" in out
    assert "preview only" in out
    assert Consigne.objects.count() == 0


def test_publish_regenerates_the_seed_byte_for_byte(contracts, tmp_path, settings, capsys):
    settings.SMARTOA_NOW = parse_instant("2025-09-21T12:55:05+02:00")
    call_command("consignes", "generate", "--prices", price_file(tmp_path), "--day", "2025-09-22", "--publish")
    assert "published 3 consignes for 2025-09-22" in capsys.readouterr().out
    version = ConsigneVersion.objects.get(contract__contract_id="BOAXXXXX")
    assert version.document == SEED.strip()
    assert version.number == 1 and version.has_stop
    assert not ConsigneVersion.objects.filter(contract__contract_id="BOASMALL").exists()


def test_exclusions_from_option_and_file(contracts, tmp_path, capsys):
    excluded = tmp_path / "excluded.txt"
    excluded.write_text("# group B, published later\nBOA00002\n")
    call_command(
        "consignes",
        "generate",
        "--prices",
        price_file(tmp_path),
        "--day",
        "2025-09-22",
        "--exclude",
        "BOAXXXXX",
        "--exclude-file",
        str(excluded),
        "--publish",
        "--list",
    )
    out = capsys.readouterr().out
    assert "1 contract: stop 11:55–18:00" in out and "    BOA00001\n" in out
    assert "excluded: 2 (BOA00002, BOAXXXXX)" in out
    assert set(Consigne.objects.values_list("contract__contract_id", flat=True)) == {"BOA00001"}


def test_unknown_exclusion_is_refused(contracts, tmp_path):
    with pytest.raises(CommandError, match=r"unknown contract.* to exclude: BOATYPO"):
        call_command(
            "consignes",
            "generate",
            "--prices",
            price_file(tmp_path),
            "--day",
            "2025-09-22",
            "--exclude",
            "BOA00001,BOATYPO",
            "--publish",
        )
    assert Consigne.objects.count() == 0


def test_day_already_published_is_refused_whole(contracts, tmp_path, capsys):
    publish_day(contracts[0], DAY)
    call_command("consignes", "generate", "--prices", price_file(tmp_path), "--day", "2025-09-22")
    assert "already published for 2025-09-22: 1 (BOA00001)" in capsys.readouterr().out
    with pytest.raises(CommandError, match=r"already published \(1; .*\):\ndelivery day 2025-09-22: BOA00001$"):
        call_command("consignes", "generate", "--prices", price_file(tmp_path), "--day", "2025-09-22", "--publish")
    assert ConsigneVersion.objects.count() == 1
    call_command(
        "consignes",
        "generate",
        "--prices",
        price_file(tmp_path),
        "--day",
        "2025-09-22",
        "--publish",
        "--exclude",
        "BOA00001",
    )
    assert ConsigneVersion.objects.count() == 3


def test_bad_price_file_names_the_line_and_writes_nothing(contracts, tmp_path):
    path = Path(price_file(tmp_path))
    lines = path.read_text().splitlines()
    lines[10] = lines[10].replace(":15:00", ":20:00")
    path.write_text("\n".join(lines))
    with pytest.raises(CommandError, match=r"line 11: 2025-09-22T02:20:00\+02:00 is not the start of a quarter-hour"):
        call_command("consignes", "generate", "--prices", str(path), "--day", "2025-09-22", "--publish")
    assert Consigne.objects.count() == 0


def test_prices_of_another_day_are_refused(contracts, tmp_path):
    with pytest.raises(CommandError, match=r"no line is a quarter-hour of 2025-09-23.*line 2: .* is outside"):
        call_command("consignes", "generate", "--prices", price_file(tmp_path), "--day", "2025-09-23")


@pytest.mark.parametrize(
    ("day", "negative", "expected", "day_end"),
    [
        ("2026-03-29", range(44, 68), "stop 11:55–18:00", "2026-03-30T00:00:00+02:00"),  # 23-hour day
        ("2026-10-25", range(4), "stop 00:00–01:00", "2026-10-26T00:00:00+01:00"),  # 25-hour day
    ],
)
def test_generation_on_dst_days(contracts, tmp_path, capsys, day, negative, expected, day_end):
    path = price_file(tmp_path, date.fromisoformat(day), negative)
    call_command("consignes", "generate", "--prices", path, "--day", day, "--publish")
    assert f"3 contracts: {expected}" in capsys.readouterr().out
    document = json.loads(ConsigneVersion.objects.get(contract__contract_id="BOA00001").document)
    assert document["data"][0]["start_date"] == f"{day}T00:00:00" + ("+02:00" if day.endswith("25") else "+01:00")
    assert document["data"][-1]["end_date"] == day_end


def test_group_rendering_matches_the_reference_renderer(contracts):
    """Publication renders once per identical schedule; each document must equal render_document's."""
    moment = parse_instant("2025-09-21T12:55:05+02:00")
    periods = stop_periods(DAY, "03:05", "04:00")
    factory = VersionFactory(moment, "test")
    consigne = Consigne(contract=contracts[1], delivery_day=DAY)
    for cid in ("BOA00001", "BOA00002"):
        doc = ConsigneDocument(cid, DAY, periods)
        assert factory.version(consigne, doc, 1).document == render_document(cid, moment, DAY, periods).decode()
