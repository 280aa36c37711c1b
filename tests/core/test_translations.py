"""Every user error a page can show has its French text: each English message template raised by the services is
marked for the catalogue and translated in locale/fr (a template added later without its translation fails here)."""

from __future__ import annotations

import ast
from pathlib import Path

from django.utils import translation

import smartoa
from smartoa.domain.errors import UserError

SRC = Path(smartoa.__file__).parent


def error_classes() -> set[str]:
    """Names of UserError and of every subclass defined in the code (found by reading it)."""
    names = {cls.__name__ for cls in _subclasses(UserError)} | {"UserError"}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                getattr(b, "id", getattr(b, "attr", "")) in names for b in node.bases
            ):
                names.add(node.name)
    return names


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def raised_templates() -> list[tuple[str, str]]:
    """(place, template) of every literal message template given to a user error, marked or not."""
    names, found = error_classes(), []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in names):
                continue
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Call) and first.args:  # gettext_noop("…") or _("…")
                first = first.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((f"{path.relative_to(SRC)}:{node.lineno}", first.value))
    return found


def test_the_code_raises_user_errors_with_literal_templates():
    assert len(raised_templates()) > 50  # the walk finds them (a walk that found none would pass anything)


def test_every_user_error_template_has_its_french_translation():
    with translation.override("fr"):
        missing = [f"{place}: {text}" for place, text in raised_templates() if translation.gettext(text) == text]
    assert missing == []
