"""The published API contract: the committed ``openapi.json`` is what the server serves, and a change of it is
recorded in ``CHANGELOG.md`` (Keep a Changelog): ``info.version`` is the latest release, the document of that
release is kept in ``docs/releases/``, and every path whose description changed since the release is named
under [Unreleased] (any other change needs at least one entry there)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from smartoa.api.contract import REGENERATE, URL, render

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "openapi.json"
CHANGELOG = ROOT / "CHANGELOG.md"
RELEASES = ROOT / "docs" / "releases"
HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?$", re.MULTILINE)
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


def sections(text: str) -> list[tuple[str, str | None, str]]:
    """(name, date, body) of each ``## [name] - date`` section, in the file's order."""
    found = list(HEADING.finditer(text))
    return [
        (m["name"], m["date"], text[m.end() : found[i + 1].start() if i + 1 < len(found) else len(text)])
        for i, m in enumerate(found)
    ]


def entries(body: str) -> list[str]:
    """The list items of a section (``- …`` lines, with their continuation lines)."""
    items: list[str] = []
    for line in body.splitlines():
        if line.startswith("- "):
            items.append(line[2:])
        elif items and line.startswith("  ") and line.strip():
            items[-1] += " " + line.strip()
    return items


def release_problems(current: dict, released: dict, unreleased: str) -> list[str]:
    """What [Unreleased] (its text: ``unreleased``) fails to record of the change from ``released`` to
    ``current``: each changed path must be named, any other change needs one entry at least."""
    problems = []
    paths = sorted(set(current["paths"]) | set(released["paths"]))
    changed = [p for p in paths if current["paths"].get(p) != released["paths"].get(p)]
    problems += [f"{path} changed but [Unreleased] does not name it" for path in changed if path not in unreleased]
    if render(current) != render(released) and not entries(unreleased):
        problems.append("openapi.json changed since the release but [Unreleased] has no entry")
    return problems


def test_the_committed_openapi_is_the_served_one(wsgi):
    served = wsgi("GET", URL)
    assert served.status == 200
    if OPENAPI.read_text() != render(served.json()):
        pytest.fail(f"openapi.json differs from the served {URL}: run {REGENERATE}, then record it in CHANGELOG.md")


def test_the_changelog_follows_keep_a_changelog():
    text = CHANGELOG.read_text()
    assert text.startswith("# Changelog\n")
    found = sections(text)
    assert found and found[0][0] == "Unreleased" and found[0][1] is None, "the first section must be [Unreleased]"
    releases = found[1:]
    assert releases, "at least one released version"
    versions = []
    for name, day, _ in releases:
        assert SEMVER.match(name) and day, f"a release heading is '## [X.Y.Z] - YYYY-MM-DD', not {name!r}"
        versions.append(tuple(int(n) for n in name.split(".")))
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions), "newest first"
    for name, _, _ in found:
        assert f"\n[{name}]: " in text, f"the link reference [{name}] is missing at the end"


def test_openapi_version_is_the_latest_release_and_its_changes_are_recorded():
    found = sections(CHANGELOG.read_text())
    latest = found[1][0]
    current = json.loads(OPENAPI.read_text())
    assert current["info"]["version"] == latest, (
        f"openapi.json says version {current['info']['version']}, CHANGELOG.md's latest release is {latest}:"
        " the version is set in src/smartoa/api/api.py (see docs/development.md, releasing the API)"
    )
    snapshot = RELEASES / f"openapi-{latest}.json"
    assert snapshot.exists(), f"the released document {snapshot.relative_to(ROOT)} is missing"
    released = json.loads(snapshot.read_text())
    assert released["info"]["version"] == latest
    assert release_problems(current, released, found[0][2]) == []


def test_a_change_without_its_entry_is_caught():
    """The check above can fail: a new path, a changed answer, a changed schema."""
    released = json.loads(OPENAPI.read_text())
    current = json.loads(OPENAPI.read_text())
    assert release_problems(current, released, "") == []
    current["paths"]["/api/v1/new"] = {"get": {"responses": {}}}
    current["paths"]["/api/v1/effacement"]["get"]["responses"]["418"] = {"description": "teapot"}
    assert release_problems(current, released, "### Added\n\n- something\n") == [
        "/api/v1/effacement changed but [Unreleased] does not name it",
        "/api/v1/new changed but [Unreleased] does not name it",
    ]
    assert release_problems(current, released, "- `GET /api/v1/new`; `/api/v1/effacement` answers 418\n") == []
    schema_only = json.loads(OPENAPI.read_text())
    schema_only["components"]["schemas"]["ErrorOut"]["description"] = "changed"
    assert release_problems(schema_only, released, "") == [
        "openapi.json changed since the release but [Unreleased] has no entry"
    ]
    assert release_problems(schema_only, released, "### Changed\n\n- the errors\n") == []
