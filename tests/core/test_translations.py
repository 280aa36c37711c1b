"""Every user-facing message is a literal template a catalogue translates, French first with English available:
the code is read (``message_scan``) for every refusal, form error and flashed message, and each must be a marked
literal — never an f-string, a concatenation, a ``.join``/``.format`` or a template filled before it is translated —
and each English error template must have its French translation (and each French page message its English one),
with the same placeholders. A message added later without them fails here."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from django.utils import translation

import smartoa
from tests.core import message_scan

SRC = Path(smartoa.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _sources() -> dict[str, str]:
    return {
        str(path.relative_to(SRC)): path.read_text()
        for path in sorted(SRC.rglob("*.py"))
        if "migrations" not in path.parts
    }


SOURCES = _sources()
ERRORS = message_scan.error_classes(SOURCES)
SITES = [site for path, code in SOURCES.items() for site in message_scan.scan(code, path, ERRORS)]


def english_templates() -> list[tuple[str, str]]:
    """(place, template) of every English template: marked with gettext_noop anywhere in the code (tables of
    templates included)."""
    return [
        (f"{path}:{line}", texts[0])
        for path, code in SOURCES.items()
        for line, language, texts in message_scan.marked_templates(code)
        if language == "en"
    ]


def french_messages() -> list[tuple[str, tuple[str, ...]]]:
    """(place, texts) of every French text a page shows as a message (flashed, form error, admin operation): one
    text, or ngettext's singular and plural."""
    return [(s.place, texts) for s in SITES for language, texts in s.templates if language == "fr"]


def _untranslated(texts: tuple[str, ...]) -> bool:
    if len(texts) == 1:
        return translation.gettext(texts[0]) == texts[0]
    return any(translation.ngettext(*texts, n) == texts[n > 1] for n in (1, 2))


def test_the_scan_finds_the_message_sites():
    """The walk finds what it checks (a walk that found nothing would pass anything)."""
    kinds = Counter(site.kind for site in SITES)
    assert kinds["error"] > 150 and kinds["messages"] > 30 and kinds["add_error"] > 5 and kinds["validation"] > 5
    assert kinds["command"] >= 1
    assert {"UserError", "InvalidInput", "ScheduleError", "CurveImportError", "PriceFileError"} <= ERRORS
    assert len(english_templates()) > 150 and len(french_messages()) > 40


def test_no_user_message_is_composed():
    """No f-string, concatenation, ``.join``, ``.format`` or early filling as a message; no date as ISO text, no
    nested refusal flattened to its English text in a user error's parameters."""
    problems = [f"{site.place} ({site.kind}): {problem}" for site in SITES for problem in site.problems]
    assert problems == []


def test_every_english_template_has_its_french_translation():
    with translation.override("fr"):
        missing = [f"{place}: {text!r}" for place, text in english_templates() if translation.gettext(text) == text]
        placeholders = [
            f"{place}: {text!r}"
            for place, text in english_templates()
            if set(PLACEHOLDER.findall(translation.gettext(text))) != set(PLACEHOLDER.findall(text))
        ]
    assert missing == [] and placeholders == []


def test_every_french_message_has_its_english_translation():
    with translation.override("en"):
        missing = [f"{place}: {texts[0]!r}" for place, texts in french_messages() if _untranslated(texts)]
    assert missing == []


def test_english_templates_have_no_parenthesised_plurals():
    """ "error(s)" reads badly in both languages: the templates are rephrased ("errors: %(count)s")."""
    assert [f"{place}: {text!r}" for place, text in english_templates() if "(s)" in text] == []


HEADER = "from django.contrib import messages\nfrom django.utils.translation import gettext as _, gettext_noop\n"
HEADER += "from smartoa.domain.errors import InvalidInput\nfrom django.core.management.base import CommandError\n"


def _problems(code: str) -> list[str]:
    sites = message_scan.scan(HEADER + code, "planted.py", ERRORS)
    assert sites, "the planted message was not found"
    return [problem for site in sites for problem in site.problems]


@pytest.mark.parametrize(
    "code",
    [
        "raise InvalidInput(f'line {n}: bad')",
        "raise InvalidInput(gettext_noop('line %(n)s: ') + problem, n=n)",
        "raise InvalidInput('; '.join(problems))",
        "raise InvalidInput('line {}'.format(n))",
        "raise InvalidInput(gettext_noop('line %(n)s') % {'n': n})",
        "raise InvalidInput('the file was not imported')",
        "raise InvalidInput(_('le fichier est refusé'))",
        "raise CommandError(f'{path}: no such file')",
        "message = f'nothing was {action}'\nraise InvalidInput(message)",
        "raise InvalidInput(gettext_noop('the file was not imported:\\n%(rows)s'), rows='\\n'.join(lines))",
        "raise InvalidInput(gettext_noop('closed at %(at)s'), at=iso(deadline))",
        "raise InvalidInput(gettext_noop('closed on %(day)s'), day=day.isoformat())",
        "raise InvalidInput(gettext_noop('%(what)s'), what=f'period {n} overlaps')",
        "try:\n    parse(x)\nexcept InvalidInput as exc:\n    raise InvalidInput(gettext_noop('at %(p)s'), p=str(exc))",
        "messages.error(request, _('Refusé : ') + reason)",
        "messages.success(request, f'{n} contrats importés')",
        "messages.info(request, 'Rien à faire.')",
        "messages.success(request, _('HLAR du %(day)s.') % {'day': day.isoformat()})",
        "form.add_error(None, ', '.join(problems))",
    ],
)
def test_the_scan_refuses_a_composed_or_unmarked_message(code):
    assert _problems(code), code


@pytest.mark.parametrize(
    "code",
    [
        "raise InvalidInput(gettext_noop('line %(line)s: %(problem)s'), line=3, problem=inner)",
        "raise InvalidInput(gettext_noop('a') if one else gettext_noop('b'), ids=', '.join(ids))",
        "raise InvalidInput(TEMPLATES[action], problems=at_most(errors, 50))",
        "messages.success(request, _('%(n)s contrats importés.') % {'n': n})",
        "text = _('Rappel de %(email)s enregistré.')\nmessages.success(request, text % {'email': email})",
        "messages.error(request, user_message(exc))",
        "form.add_error('code', _('Code incorrect.'))",
        "raise CommandError(str(exc))",
    ],
)
def test_the_scan_accepts_a_literal_template(code):
    assert _problems(code) == []
