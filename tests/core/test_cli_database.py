"""``smartoa`` on a database that is missing, unreachable or not migrated: a message naming the database and
``smartoa migrate``, a non-zero exit, and nothing created (no empty SQLite file under ./var)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from django.db import connection

from smartoa.core.database import describe
from tests.subprocess_env import subprocess_env


def run(*args: str, cwd=None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smartoa.cli", *args],
        env=subprocess_env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def assert_refused(result, *names: str, hint=("smartoa migrate", "SMARTOA_DATA_DIR", "DATABASE_URL")):
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "no such table" not in result.stderr
    for name in (*hint, *names):
        assert name in result.stderr, result.stderr


def test_from_another_folder_nothing_is_created(tmp_path):
    result = run("tokens", "list", "BOA00001", cwd=tmp_path, DATABASE_URL="")
    assert_refused(result, str(tmp_path / "var" / "smartoa.sqlite3"), "does not exist")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [("serve", "--port", "0"), ("consignes", "publish", "x.json"), ("demo",)])
def test_commands_refuse_a_missing_database(tmp_path, args):
    data = tmp_path / "data"
    assert_refused(run(*args, DATABASE_URL="", SMARTOA_DATA_DIR=str(data)), str(data / "smartoa.sqlite3"))
    assert not data.exists()


def test_an_unmigrated_sqlite_file_is_named(tmp_path):
    (tmp_path / "smartoa.sqlite3").touch()  # what the old behaviour left behind
    result = run("tokens", "list", "BOA00001", DATABASE_URL="", SMARTOA_DATA_DIR=str(tmp_path))
    assert_refused(result, str(tmp_path / "smartoa.sqlite3"), "never migrated")


def test_migrate_creates_it_then_commands_work(tmp_path):
    data = tmp_path / "data"
    env = {"DATABASE_URL": "", "SMARTOA_DATA_DIR": str(data)}
    migrated = run("migrate", "-v0", **env)
    assert migrated.returncode == 0, migrated.stderr
    assert (data / "smartoa.sqlite3").is_file()
    result = run("tokens", "list", "BOA00001", **env)
    assert result.returncode == 1 and "BOA00001" in result.stderr  # the command itself answers: unknown contract
    assert "smartoa migrate" not in result.stderr


@pytest.mark.parametrize("args", [("help",), ("--help",), ("tokens", "--help"), ("check",), ("--version",)])
def test_help_and_checks_need_no_database(tmp_path, args):
    result = run(*args, DATABASE_URL="", SMARTOA_DATA_DIR=str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "data").exists()


def test_showmigrations_needs_the_database_to_exist_not_to_be_migrated(tmp_path):
    env = {"DATABASE_URL": "", "SMARTOA_DATA_DIR": str(tmp_path)}
    assert_refused(run("showmigrations", "core", **env), "does not exist")
    (tmp_path / "smartoa.sqlite3").touch()
    result = run("showmigrations", "core", **env)
    assert result.returncode == 0 and "[ ] 0001_cache_table" in result.stdout, result.stderr


def test_an_unreachable_postgresql_is_named_without_its_password():
    url = "postgres://smartoa:s3cret-pw@127.0.0.1:1/smartoa"
    result = run("tokens", "list", "BOA00001", DATABASE_URL=url)
    assert_refused(result, "postgres://smartoa@127.0.0.1:1/smartoa", "cannot use", hint=("DATABASE_URL",))
    assert "s3cret-pw" not in result.stderr


def test_migrate_on_an_unreachable_postgresql_is_a_message():
    url = "postgres://smartoa:s3cret-pw@127.0.0.1:1/smartoa"
    result = run("migrate", DATABASE_URL=url)
    assert_refused(result, "postgres://smartoa@127.0.0.1:1/smartoa", "cannot use", hint=())
    assert "s3cret-pw" not in result.stderr


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL run only")
@pytest.mark.django_db
def test_an_unmigrated_postgresql_database_is_named():
    import psycopg

    s = connection.settings_dict
    name = f"smartoa_empty_{uuid.uuid4().hex[:8]}"
    admin = f"postgresql://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/postgres"
    with psycopg.connect(admin, autocommit=True) as pg:
        pg.execute(f"CREATE DATABASE {name}")
    try:
        url = admin.replace("postgresql://", "postgres://").rsplit("/", 1)[0] + "/" + name
        result = run("tokens", "list", "BOA00001", DATABASE_URL=url)
        assert_refused(result, f"/{name}", "never migrated")
        assert run("serve", "--port", "0", DATABASE_URL=url).returncode == 2
    finally:
        with psycopg.connect(admin, autocommit=True) as pg:
            pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_serve_refuses_by_itself(monkeypatch):
    """``serve`` checks too when it is called without the ``smartoa`` entry point (call_command)."""
    from django.core.management import CommandError, call_command

    monkeypatch.setattr(
        "smartoa.runtime.management.commands.serve.not_ready", lambda: f"{describe()} is empty (never migrated)"
    )
    with pytest.raises(CommandError, match=r"refusing to serve: the .* database .*never migrated"):
        call_command("serve", "--port", "8123")
