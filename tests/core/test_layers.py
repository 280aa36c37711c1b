"""The web floors: the portal and the back office stand side by side on the shared web layer (``smartoa/web``);
neither imports the other's code nor uses the other's templates or URL names, and the web layer uses neither.
A new import across the floors fails here with the file and the line."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "smartoa"
FLOORS = ("portal", "backoffice", "web")
# What each floor may not reach: the other side, and for the shared layer both sides.
FORBIDDEN = {"portal": ("backoffice",), "backoffice": ("portal",), "web": ("portal", "backoffice")}
TEMPLATE_USE = re.compile(r"""\{%\s*(?:extends|include)\s+["']([\w-]+)/""")
URL_USE = re.compile(r"""\{%\s*url\s+["']([\w-]+):""")


def python_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in a Python file, relative ones resolved within smartoa."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
    return found


def floor_of_module(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "smartoa" and parts[1] in FLOORS else None


@pytest.mark.parametrize("floor", FLOORS)
def test_no_python_import_across_floors(floor):
    crossings = [
        f"{path.relative_to(SRC)}:{line} imports {module}"
        for path in sorted((SRC / floor).rglob("*.py"))
        for line, module in python_imports(path)
        if floor_of_module(module) in FORBIDDEN[floor]
    ]
    assert crossings == [], "\n".join(crossings)


@pytest.mark.parametrize("floor", FLOORS)
def test_no_template_or_url_name_across_floors(floor):
    crossings = []
    for path in sorted((SRC / floor / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern, what in ((TEMPLATE_USE, "template"), (URL_USE, "URL name")):
            for match in pattern.finditer(text):
                if match.group(1) in FORBIDDEN[floor]:
                    line = text.count("\n", 0, match.start()) + 1
                    crossings.append(f"{path.relative_to(SRC)}:{line} uses the {what} {match.group(0)}")
    assert crossings == [], "\n".join(crossings)


def test_the_scanner_sees_a_crossing(tmp_path):
    """The checks above can fail: an import and a template use across floors are both found."""
    module = tmp_path / "view.py"
    module.write_text("from smartoa.portal.views import contracts\nimport smartoa.backoffice.queries\n")
    assert [floor_of_module(m) for _, m in python_imports(module)] == ["portal", "backoffice"]
    assert TEMPLATE_USE.search('{% include "portal/form.html" %}').group(1) == "portal"
    assert URL_USE.search("{% url 'backoffice:control' %}").group(1) == "backoffice"
