"""Which database the platform uses, and whether it is ready: created, reachable and migrated.

The command line and ``smartoa serve`` refuse to work on a database that is not (instead of creating an empty
SQLite file and failing later on "no such table").
"""

from __future__ import annotations

from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

HINT = (
    "run `smartoa migrate` to create or upgrade it, or set SMARTOA_DATA_DIR (the folder of the SQLite file) "
    "or DATABASE_URL to use another database"
)


def describe(alias: str = DEFAULT_DB_ALIAS) -> str:
    """The database in words, without its password: the SQLite file's path or the PostgreSQL URL."""
    settings_dict = connections[alias].settings_dict
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"the SQLite database {settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"the PostgreSQL database postgres://{user + '@' if user else ''}{host}{port}/{settings_dict['NAME']}"


def sqlite_file(alias: str = DEFAULT_DB_ALIAS) -> Path | None:
    """The SQLite file of ``alias``, or None (another engine, or in memory)."""
    settings_dict = connections[alias].settings_dict
    if settings_dict["ENGINE"] != "django.db.backends.sqlite3" or str(settings_dict["NAME"]) == ":memory:":
        return None
    return Path(settings_dict["NAME"])


def missing(alias: str = DEFAULT_DB_ALIAS) -> str | None:
    """Why the database is missing (an SQLite file that does not exist), or None. Connects to nothing."""
    path = sqlite_file(alias)
    if path is not None and not path.exists():
        return f"{describe(alias)} does not exist; {HINT}"
    return None


def not_ready(alias: str = DEFAULT_DB_ALIAS) -> str | None:
    """Why the database cannot serve the platform (missing, unreachable, not or not fully migrated), or None.
    Creates nothing: a missing SQLite file is reported before any connection could create it."""
    if problem := missing(alias):
        return problem
    where = describe(alias)
    connection = connections[alias]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"cannot use {where}: {reason} (is it running? DATABASE_URL chooses another database)"
    finally:
        connection.close()
    if not plan:
        return None
    if not executor.loader.applied_migrations:
        return f"{where} is empty (never migrated); {HINT}"
    return f"{where} is not up to date ({len(plan)} migrations to apply); {HINT}"
