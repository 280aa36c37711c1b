"""The ``smartoa`` operator command. Each sub-command is a Django management command living in its feature
package (``contracts/management/commands/contracts.py`` for ``smartoa contracts …``, and so on).

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
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"smartoa: configuration error: {exc}", file=sys.stderr)  # noqa: T201 - before Django's output wrappers exist
        sys.exit(2)
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

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
