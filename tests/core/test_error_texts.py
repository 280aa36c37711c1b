"""Refusals as people read them (``core.formats.error_text``): French first (English available), every problem of a
refused file on its own line and translated, dates written ``25/11/2026`` and ``24/11/2026 à 16:30``; machines (the
API, the command line: ``str(error)``) keep the English text with ISO 8601 values."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import translation

from smartoa.accounts.security import PasswordRefused, set_password
from smartoa.accounts.services import create_account
from smartoa.consignes.services import load_documents, modify
from smartoa.contracts.importing import parse_contracts_csv
from smartoa.core.formats import error_text
from smartoa.domain.calendar import day_bounds
from smartoa.domain.errors import DeadlinePassed, InvalidInput, NotFound
from smartoa.domain.prices import PriceFileError, parse_prices
from smartoa.domain.schedule import ConsigneDocument, ScheduleError, parse_document
from tests.factories import as_json, clock, paris, publish_day, stop_periods

DAY = date(2026, 11, 25)
HEADER = "contract_id,name,sector,installed_power,power_unit,holder_email,manager_email,network_id\n"


def texts(error) -> tuple[str, str, str]:
    """(machine text, French, English) of a refusal."""
    with translation.override("fr"):
        fr = error_text(error)
    with translation.override("en"):
        en = error_text(error)
    return str(error), fr, en


@pytest.mark.django_db
def test_a_contracts_file_with_two_bad_lines():
    with pytest.raises(InvalidInput) as refused:
        parse_contracts_csv(
            HEADER + "boa1,Parc,pv,12,MWc,a@example.fr,,\nBOA00002,Parc,pv,12,MWc,a@example.fr,,,extra\n"
        )
    machine, fr, en = texts(refused.value)
    assert machine == (
        "the file was not imported:\n"
        "line 2: contract_id 'boa1' must be 3-32 upper-case letters and digits\n"
        "line 3: the header has 8 fields, this line 9"
    )
    assert fr == (
        "Le fichier n'a pas été importé :\n"
        "ligne 2 : contract_id 'boa1' doit compter 3 à 32 lettres majuscules et chiffres\n"
        "ligne 3 : l'en-tête compte 8 champs, cette ligne 9"
    )
    assert en == "T" + machine[1:]


@pytest.mark.django_db
def test_each_problem_of_a_line_is_named_with_its_line():
    with pytest.raises(InvalidInput) as refused:
        parse_contracts_csv(HEADER + "BOA00001,Parc,hydro,12,kW,,,\n")
    assert str(refused.value).splitlines() == [
        "the file was not imported:",
        "line 2: sector 'hydro' is not one of pv, wind_onshore, wind_offshore",
        "line 2: power_unit 'kW' is not MW or MWc",
        "line 2: holder_email is empty",
    ]
    with translation.override("fr"):
        assert error_text(refused.value).splitlines()[1:] == [
            "ligne 2 : sector 'hydro' n'est pas l'une des filières pv, wind_onshore, wind_offshore",
            "ligne 2 : power_unit 'kW' n'est ni MW ni MWc",
            "ligne 2 : holder_email est vide",
        ]


def test_a_consigne_document_names_its_periods_with_dates_for_people():
    late = dict(as_json("BOA00001", DAY, stop_periods(DAY)))
    start, _ = day_bounds(DAY)
    late["data"][0]["start_date"] = (start + timedelta(minutes=5)).isoformat()
    with pytest.raises(ScheduleError) as refused:
        parse_document(late)
    machine, fr, _ = texts(refused.value)
    assert machine == (
        "BOA00001 2026-11-25: the first period starts at 2026-11-25T00:05:00+01:00, not at 2026-11-25T00:00:00+01:00"
    )
    assert (
        fr == "BOA00001 du 25/11/2026 : la première période commence le 25/11/2026 à 00:05, pas le 25/11/2026 à 00:00"
    )


def test_a_wrong_offset_is_shown_as_written():
    document = dict(as_json("BOA00001", DAY, stop_periods(DAY)))
    document["data"][1]["start_date"] = "2026-11-25T12:55:00+02:00"  # Paris is at +01:00 in November
    with pytest.raises(ScheduleError) as refused:
        parse_document(document)
    machine, fr, _ = texts(refused.value)
    assert machine.endswith(
        "period 2: start_date 2026-11-25T12:55:00+02:00 has the wrong offset for Europe/Paris at that instant "
        "(expected +01:00)"
    )
    assert fr.endswith("(attendu : +01:00)") and "2026-11-25T12:55:00+02:00" in fr


@pytest.mark.django_db
def test_a_publication_file_names_each_bad_document(make_contract):
    make_contract("BOA00001")
    gap = as_json("BOA00001", DAY, stop_periods(DAY))
    del gap["data"][1]
    unknown = as_json("BOANOPE", DAY, stop_periods(DAY))
    with pytest.raises(InvalidInput) as refused:
        load_documents(json.dumps([gap, unknown]))
    machine, fr, en = texts(refused.value)
    assert machine == (
        "nothing was published:\n"
        "document 1: BOA00001 2026-11-25: gap before period 2: nothing from 2026-11-25T11:55:00+01:00 "
        "to 2026-11-25T18:00:00+01:00\n"
        "document 2: unknown contract 'BOANOPE'"
    )
    assert fr == (
        "Rien n'a été publié :\n"
        "document 1 : BOA00001 du 25/11/2026 : trou avant la période 2 : rien du 25/11/2026 à 11:55 "
        "au 25/11/2026 à 18:00\n"
        "document 2 : contrat inconnu 'BOANOPE'"
    )
    assert en.splitlines()[1] == (
        "document 1: BOA00001 25/11/2026: gap before period 2: nothing from 25/11/2026 at 11:55 to 25/11/2026 at 18:00"
    )


@pytest.mark.django_db
def test_a_refused_modification_names_each_consigne_with_its_dates(make_contract):
    one, two = make_contract("BOA00001"), make_contract("BOA00002")
    publish_day(one, DAY, moment=paris("2026-11-23", "12:00"))
    documents = [ConsigneDocument(c.contract_id, DAY, stop_periods(DAY, "12:00")) for c in (one, two)]
    with pytest.raises(DeadlinePassed) as refused, transaction.atomic(), clock(paris("2026-11-24", "16:10")):
        modify(documents, reason="incident", actor="test")
    machine, fr, _ = texts(refused.value)
    assert machine == (
        "nothing was changed:\n"
        "2026-11-25: publication and changes closed at 2026-11-24T16:00:00+01:00 (HLAR 2026-11-24T16:30:00+01:00 − "
        "30 min); postpone the day's HLAR, or force it with a reason\n"
        "BOA00002 2026-11-25: never published (use 'consignes publish' or 'generate')"
    )
    assert fr == (
        "Rien n'a été modifié :\n"
        "25/11/2026 : publication et modifications fermées depuis le 24/11/2026 à 16:00 (HLAR 24/11/2026 à 16:30 − "
        "30 min) ; reportez l'HLAR du jour, ou forcez avec un motif\n"
        "BOA00002 du 25/11/2026 : jamais publiée (utilisez « consignes publish » ou « generate »)"
    )


@pytest.mark.django_db
def test_a_refused_acknowledgment_after_the_hlar_shows_its_moment(make_contract, acknowledge):
    contract = make_contract("BOA00001")
    publish_day(contract, DAY, moment=paris("2026-11-23", "12:00"))
    with pytest.raises(DeadlinePassed) as refused:
        acknowledge(contract, DAY, moment=paris("2026-11-24", "16:31"))
    machine, fr, en = texts(refused.value)
    assert machine == "acknowledgments for 2026-11-25 closed at HLAR 2026-11-24T16:30:00+01:00"
    assert fr == "Les acquiescements du 25/11/2026 sont fermés depuis l'HLAR (24/11/2026 à 16:30)"
    assert en == "Acknowledgments for 25/11/2026 closed at HLAR 24/11/2026 at 16:30"


def test_a_price_file_lists_its_first_problems_then_how_many_more():
    text = "start,price\n" + "".join(f"2026-11-25T{h:02d}:00:00+01:00,{'12' if h == 0 else 'x'}\n" for h in range(24))
    with pytest.raises(PriceFileError) as refused:
        parse_prices(text, DAY)
    machine, fr, _ = texts(refused.value)
    lines = machine.splitlines()
    assert lines[0] == "price file refused for 2026-11-25 (96 quarter-hours expected):"
    assert lines[1] == "line 3: price 'x' is not a number" and len(lines) == 1 + 20 + 1
    assert lines[-1] == "… and 98 more"  # 23 bad lines and 95 quarter-hours missing, 20 shown
    assert fr.splitlines()[0] == "Fichier de prix refusé pour le 25/11/2026 (96 quarts d'heure attendus) :"
    assert fr.splitlines()[1] == "ligne 3 : le prix 'x' n'est pas un nombre"
    assert fr.splitlines()[-1] == "… et 98 de plus"


def test_a_price_file_of_another_day_says_so_for_people():
    with pytest.raises(PriceFileError) as refused:
        parse_prices("start,price\n2026-11-26T00:00:00+01:00,12\n", DAY)
    machine, fr, _ = texts(refused.value)
    assert machine == (
        "price file refused: no line is a quarter-hour of 2026-11-25 (wrong file or wrong day?); first problem: "
        "line 2: 2026-11-26T00:00:00+01:00 is outside the day 2026-11-25 "
        "(2026-11-25T00:00:00+01:00 to 2026-11-26T00:00:00+01:00)"
    )
    assert fr == (
        "Fichier de prix refusé : aucune ligne n'est un quart d'heure du 25/11/2026 (mauvais fichier ou mauvais "
        "jour ?) ; premier problème : ligne 2 : 26/11/2026 à 00:00 est hors du jour du 25/11/2026 "
        "(du 25/11/2026 à 00:00 au 26/11/2026 à 00:00)"
    )


@pytest.mark.django_db
def test_a_refused_password_keeps_the_validators_words():
    with transaction.atomic():
        user = create_account("new@example.fr", actor="test")
    with translation.override("fr"), pytest.raises(PasswordRefused) as refused:
        set_password(user, "123", ip=None)
    assert refused.value.code == "invalid_input" and refused.value.messages
    with translation.override("fr"):
        text = error_text(refused.value)
    assert text.startswith("Ce mot de passe est refusé : ") and "Ce mot de passe est trop court" in text
    assert str(refused.value).startswith("this password is refused: ")


@pytest.mark.django_db
def test_unknown_contracts_are_named_once_each(make_contract):
    from smartoa.consignes.services import publish

    documents = [ConsigneDocument(f"BOA{n:05d}", DAY, stop_periods(DAY)) for n in range(25)]
    with pytest.raises(NotFound) as refused:
        publish(documents, actor="test")
    machine, fr, _ = texts(refused.value)
    assert machine.startswith("unknown contracts: BOA00000, BOA00001, ") and machine.endswith("BOA00019 … and 5 more")
    assert fr.startswith("Contrats inconnus : BOA00000, ") and fr.endswith("BOA00019 … et 5 de plus")
