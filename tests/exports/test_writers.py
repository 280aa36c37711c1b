"""Files for people open right in a spreadsheet of their language; files for machines keep keys, ISO and codes."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
from django.utils import translation

from smartoa.exports.writers import Column, render

UTC = ZoneInfo("UTC")
COLUMNS = [
    Column("contract", "Contrat"),
    Column("day", "Jour"),
    Column("at", "Le (heure de Paris)"),
    Column("energy", "Énergie (kWh)"),
    Column("steps", "Pas"),
    Column("stale", "À recalculer"),
    Column("channel", "Canal", words=lambda code: {"portal": "Portail", "api": "API"}[code]),
]
ROWS = [
    {
        "contract": "BOA00001",
        "day": date(2026, 3, 29),  # the 23-hour day
        "at": datetime(2026, 3, 29, 1, 5, tzinfo=UTC),  # 03:05 in Paris, summer time
        "energy": 14.5,
        "steps": 8928,
        "stale": False,
        "channel": "portal",
    },
    {"contract": "BOA00002", "day": None, "at": None, "energy": Decimal("0.25"), "steps": 0, "stale": True},
]


def test_a_french_csv_for_a_french_excel():
    with translation.override("fr"):
        body = render("csv", document=None, rows=ROWS, columns=COLUMNS)
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with its byte-order mark: Excel reads the accents right
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Contrat", "Jour", "Le (heure de Paris)", "Énergie (kWh)", "Pas", "À recalculer", "Canal",
                       "Canal (code)"]  # fmt: skip
    assert rows[1] == ["BOA00001", "29/03/2026", "29/03/2026 03:05", "14,5", "8928", "non", "Portail", "portal"]
    assert rows[2] == ["BOA00002", "", "", "0,25", "0", "oui", "", ""]


def test_an_english_csv_for_an_english_spreadsheet():
    with translation.override("en"):
        text = render("csv", document=None, rows=ROWS, columns=COLUMNS).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][3:6] == ["14.5", "8928", "no"] and rows[2][5] == "yes"
    assert rows[0][-1] == "Canal (code)"


def test_the_workbook_holds_real_dates_and_numbers():
    with translation.override("fr"):
        body = render("xlsx", document=None, rows=ROWS, columns=COLUMNS, sheet="essai")
    sheet = openpyxl.load_workbook(io.BytesIO(body))["essai"]
    header, first, second = (list(r) for r in sheet.iter_rows(values_only=True))
    assert header[-2:] == ["Canal", "Canal (code)"]
    paris_wall_clock = [datetime(2026, 3, 29), datetime(2026, 3, 29, 3, 5)]  # noqa: DTZ001 - Excel has no zones
    assert first[:5] == ["BOA00001", *paris_wall_clock, 14.5, 8928]
    assert first[5:] == ["non", "Portail", "portal"]
    assert sheet["C2"].number_format == "dd/mm/yyyy hh:mm" and sheet["B2"].number_format == "dd/mm/yyyy"
    assert second[3] == 0.25 and second[1] is None


def test_files_for_machines_keep_keys_iso_and_codes():
    body = render("csv", document=None, rows=ROWS, columns=COLUMNS, for_people=False).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["contract", "day", "at", "energy", "steps", "stale", "channel"]
    assert rows[1] == ["BOA00001", "2026-03-29", "2026-03-29T03:05:00+02:00", "14.5", "8928", "False", "portal"]
    sheet = openpyxl.load_workbook(
        io.BytesIO(render("xlsx", document=None, rows=ROWS, columns=COLUMNS, for_people=False))
    ).active
    assert [c.value for c in sheet[1]] == ["contract", "day", "at", "energy", "steps", "stale", "channel"]
    assert sheet["C2"].value == "2026-03-29T03:05:00+02:00" and sheet["F2"].value is False
