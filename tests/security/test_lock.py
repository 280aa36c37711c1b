"""The lock files (requirements/*.lock, written by scripts/lock.sh) agree with pyproject.toml: every dependency
declared there is pinned, at a version its specifier allows, with hashes; the tests run the versions production
installs (the runtime lock's pins are the test lock's). A dependency added to pyproject.toml without running
scripts/lock.sh fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock: str) -> dict[str, str]:
    """name → version of a lock file, each entry checked to carry at least one sha256 hash."""
    text = (ROOT / "requirements" / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)
    found = {}
    for entry in entries:
        match = PIN.match(entry)
        if match is None:
            continue
        assert "--hash=sha256:" in entry, f"{lock}: {match[1]} without a hash"
        found[canonicalize_name(match[1])] = match[2]
    assert found, f"{lock}: no pinned package"
    return found


def declared(pyproject: Path, *extras: str) -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text())["project"]
    names = list(project["dependencies"])
    for extra in extras:
        names += project["optional-dependencies"][extra]
    return [Requirement(name) for name in names]


def unmet(requirements: list[Requirement], locked: dict[str, str]) -> list[str]:
    problems = []
    for requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement}: not in the lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement}: locked at {version}")
    return problems


def test_runtime_lock_pins_every_dependency_of_the_platform():
    problems = unmet(declared(ROOT / "pyproject.toml"), pins("runtime.lock"))
    assert not problems, "run scripts/lock.sh: " + "; ".join(problems)


def test_test_lock_pins_the_test_extra_and_the_client():
    locked = pins("test.lock")
    wanted = declared(ROOT / "pyproject.toml", "test") + declared(ROOT / "clients/python/pyproject.toml", "modbus")
    problems = unmet(wanted, locked)
    assert not problems, "run scripts/lock.sh: " + "; ".join(problems)


def test_tests_run_the_versions_production_installs():
    runtime, test = pins("runtime.lock"), pins("test.lock")
    differ = {name: (version, test.get(name)) for name, version in runtime.items() if test.get(name) != version}
    assert not differ, f"run scripts/lock.sh: runtime and test locks differ: {differ}"


@pytest.mark.parametrize("lock", ["runtime.lock", "test.lock"])
def test_a_lock_refuses_what_it_does_not_pin(lock):
    """The check above can fail: a requirement the lock lacks, or pins outside the specifier, is reported."""
    locked = pins(lock)
    assert unmet([Requirement("not-a-locked-package>=1")], locked) == ["not-a-locked-package>=1: not in the lock"]
    assert unmet([Requirement("django<1")], locked) == [f"django<1: locked at {locked['django']}"]


def test_setup_and_container_install_from_the_locks_with_hashes():
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "--require-hashes" in setup and "requirements/runtime.lock" in setup and "requirements/test.lock" in setup
    assert "--no-deps -e ." in setup
    container = (ROOT / "Containerfile").read_text()
    assert "pip install --require-hashes -r requirements/runtime.lock" in container
    assert "pip install --no-deps ." in container
