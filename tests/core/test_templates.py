"""Every template of the platform compiles (an unknown filter or tag, a missing ``{% load %}``, fails here rather
than as a server error on the one page that uses it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.template.loader import get_template

import smartoa

SRC = Path(smartoa.__file__).parent
TEMPLATES = sorted(
    str(path.relative_to(folder))
    for folder in SRC.glob("*/templates")
    for path in folder.rglob("*")
    if path.suffix in (".html", ".txt")
)


def test_the_templates_are_found():
    assert len(TEMPLATES) > 80


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_compiles(name):
    get_template(name)
