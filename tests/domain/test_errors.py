"""User errors (pure): the machine text (English, ISO dates) and the same error through another language's
translation and formatting, nested refusals and lists of problems included."""

from __future__ import annotations

from datetime import date, datetime

from smartoa.domain.calendar import PARIS
from smartoa.domain.errors import InvalidInput, UserError, at_most, gettext_noop

FRENCH = {
    "the file was not imported:\n%(problems)s": "le fichier n'a pas été importé :\n%(problems)s",
    "line %(line)s: %(problem)s": "ligne %(line)s : %(problem)s",
    "closed at %(at)s": "fermé le %(at)s",
    "… and %(count)s more": "… et %(count)s de plus",
}


def french(text: str) -> str:
    return FRENCH.get(text, text)


def shown(value: object) -> object:
    """How a page writes a value (a stand-in for core.formats.value_text)."""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y à %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return value


def test_dates_are_iso_for_machines_and_written_for_people():
    error = InvalidInput(gettext_noop("closed at %(at)s"), at=datetime(2026, 11, 24, 16, 30, tzinfo=PARIS))
    assert str(error) == error.message == "closed at 2026-11-24T16:30:00+01:00"
    assert error.translated(french, shown) == "fermé le 24/11/2026 à 16:30"


def test_a_nested_error_and_a_list_of_errors_are_translated_with_their_parent():
    lines = [
        InvalidInput(gettext_noop("line %(line)s: %(problem)s"), line=n, problem=InvalidInput("closed at %(at)s", at=d))
        for n, d in ((2, date(2026, 11, 25)), (3, date(2026, 11, 26)))
    ]
    error = InvalidInput(gettext_noop("the file was not imported:\n%(problems)s"), problems=lines)
    assert str(error) == "the file was not imported:\nline 2: closed at 2026-11-25\nline 3: closed at 2026-11-26"
    assert error.translated(french, shown) == (
        "le fichier n'a pas été importé :\nligne 2 : fermé le 25/11/2026\nligne 3 : fermé le 26/11/2026"
    )


def test_at_most_names_the_first_problems_then_how_many_more():
    problems = [UserError("line %(line)s: %(problem)s", line=n, problem="bad") for n in range(2, 9)]
    assert at_most(problems, 7) == problems
    shown_first = at_most(problems, 5)
    assert shown_first[:5] == problems[:5] and str(shown_first[5]) == "… and 2 more"
    error = InvalidInput(gettext_noop("the file was not imported:\n%(problems)s"), problems=shown_first)
    assert error.translated(french, shown).splitlines()[-2:] == ["ligne 6 : bad", "… et 2 de plus"]
