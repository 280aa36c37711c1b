"""The ``smartoa`` operator command. Each sub-command is a Django management command living in its feature
package (``contracts/management/commands/contracts.py`` for ``smartoa contracts …``, and so on).

``smartoa help`` (or ``--help``, or nothing) lists the platform's commands by group, one line each; Django's
built-ins stay usable but are not listed, and the destructive or unaudited ones (``REFUSED_IN_PRODUCTION``) are
refused in production. Help never needs the production settings: ``smartoa --help`` and ``smartoa COMMAND --help``
read the commands' definitions with the test environment's defaults (no secret key, no database), and run nothing.

Before running a command that needs the database, it checks that the database exists, can be reached and is
migrated, and otherwise says which database it looked at and how to create it (``smartoa migrate``) or use
another one, instead of creating an empty SQLite file and failing on "no such table".
"""

from __future__ import annotations

import os
import sys

# Commands that need no database at all, and commands that read it but need no migrated one (``migrate``, which
# creates it, is apart).
WITHOUT_DATABASE = {
    "help",
    "check",
    "makemigrations",
    "makemessages",
    "compilemessages",
    "version",
    "collectstatic",
    "shell",
}
UNMIGRATED_DATABASE = {"showmigrations", "sqlmigrate", "createcachetable", "dbshell"}

# The platform's commands as ``smartoa help`` lists them (a command of the platform missing here is listed under
# "Other": tests/core/test_cli_help.py fails on it). Django's own commands are not listed, but ``migrate``.
GROUPS = {
    "Contracts and API access": ["contracts", "tokens", "ips", "webhooks"],
    "Consignes": ["consignes", "hlar"],
    "Curves and compliance": ["curves", "compliance", "statements"],
    "Accounts": ["operators", "totp"],
    "Running the platform": ["migrate", "serve", "stream", "worker", "demo"],
}
HELP_LINES = {"migrate": "Create or update the database's tables (run after each upgrade)."}

# Commands refused in production, and why: they erase or load data, or change accounts without the services'
# checks and audit.
REFUSED_IN_PRODUCTION = {
    "flush": "it erases every table",
    "sqlflush": "it prints the SQL that erases every table",
    "loaddata": "it writes rows without the services' checks and audit",
    "createsuperuser": "it creates an account without the audit: use 'smartoa operators create EMAIL --role ROLE'",
    "changepassword": "it changes a password without the audit: use the forgotten-password link of the login page",
    "testserver": "it loads fixtures and serves them",
    "remove_stale_contenttypes": "it deletes rows (and what refers to them) without the audit",
    "axes_reset": "it resets the login lockouts without the audit",
    "axes_reset_ip": "it resets the login lockouts without the audit",
    "axes_reset_username": "it resets the login lockouts without the audit",
    "axes_reset_ip_username": "it resets the login lockouts without the audit",
    "axes_reset_logs": "it erases the login attempts' records",
    "axes_reset_failure_logs": "it erases the login failures' records",
}
HELP_FLAGS = {"-h", "--help"}


def wants_help(argv: list[str]) -> bool:
    """Whether ``argv`` only asks for help (which runs nothing)."""
    return not argv or argv[0] == "help" or any(arg in HELP_FLAGS for arg in argv)


def platform_commands() -> dict[str, str]:
    """The platform's commands (those of the ``smartoa`` packages), name → the first line of their help."""
    from django.core.management import get_commands, load_command_class

    found = {}
    for name, app in sorted(get_commands().items()):
        if app.startswith("smartoa."):
            found[name] = (load_command_class(app, name).help or "").strip().splitlines()[0]
    return found


def main_help() -> str:
    """``smartoa help``: the platform's commands by group, one line each."""
    commands = {**platform_commands(), **HELP_LINES}
    lines = ["Usage: smartoa COMMAND [ARGUMENTS]  (smartoa COMMAND --help: the command's options)", ""]
    width = max(len(name) for name in commands)
    for group, names in {**GROUPS, "Other": sorted(set(commands) - {n for g in GROUPS.values() for n in g})}.items():
        if not names:
            continue
        lines.append(f"{group}:")
        lines.extend(f"  {name.ljust(width)}  {commands.get(name, '')}".rstrip() for name in names)
        lines.append("")
    lines.append("Configuration comes from the environment (SMARTOA_ENV, DATABASE_URL…): see docs/operations.md.")
    return "\n".join(lines)


def database_check(argv: list[str]) -> str:
    """What ``argv`` needs of the database: "none", "exists" or "ready" (exists, reachable, migrated)."""
    if not argv or argv[0].startswith("-") or any(arg in ("-h", "--help", "--version") for arg in argv):
        return "none"
    if argv[0] in WITHOUT_DATABASE or argv[0] == "migrate":
        return "none"
    return "exists" if argv[0] in UNMIGRATED_DATABASE else "ready"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartoa.settings")
    helping = wants_help(argv)
    if helping:  # nothing runs: the test environment's defaults are enough to read the commands' definitions
        os.environ["SMARTOA_ENV"] = "test"
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"smartoa: configuration error: {exc}", file=sys.stderr)  # noqa: T201 - before Django's output wrappers exist
        sys.exit(2)
    from django.conf import settings
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    if helping and argv in ([], ["help"], ["-h"], ["--help"]):
        print(main_help())  # noqa: T201 - the command's own output
        return
    if not helping and settings.PRODUCTION and argv[0] in REFUSED_IN_PRODUCTION:
        reason = REFUSED_IN_PRODUCTION[argv[0]]
        print(f"smartoa: '{argv[0]}' is refused in production: {reason}.", file=sys.stderr)  # noqa: T201
        sys.exit(2)

    from smartoa.core.database import describe, missing, not_ready, sqlite_file

    check = database_check(argv)
    if argv[:1] == ["migrate"] and (path := sqlite_file()) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)  # the one command that creates the SQLite database
    elif problem := (not_ready() if check == "ready" else missing() if check == "exists" else None):
        print(f"smartoa: {problem}", file=sys.stderr)  # noqa: T201 - before Django's output wrappers exist
        sys.exit(2)
    try:
        execute_from_command_line(["smartoa", *argv])
    except OperationalError as exc:  # the database went away or cannot be reached (e.g. `migrate` on a stopped server)
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"smartoa: cannot use {describe()}: {reason}", file=sys.stderr)  # noqa: T201 - as above
        sys.exit(2)


if __name__ == "__main__":
    main()
