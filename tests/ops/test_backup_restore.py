"""Backups that were restored: a populated platform is backed up with the commands of docs/operations.md (run as
real subprocesses: ``pg_dump -Fc`` / ``pg_restore`` on PostgreSQL, the sqlite3 online backup API on SQLite),
restored into an empty database, and every table is found again row for row (a digest of each table's sorted
rows, and the counts of the tables that matter); ``smartoa migrate --check`` then finds the restored copy migrated
(and refuses the empty database before the restore)."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.db import connection

from smartoa.audit.models import AuditEvent
from smartoa.billing.models import ContractMonth
from smartoa.billing.services import run_compliance
from smartoa.consignes.models import Acknowledgment, Consigne, ConsigneVersion
from smartoa.contracts.models import ApiToken, Contract
from smartoa.metering.models import CurveMonth
from smartoa.notifications.models import Event, OutboxMessage
from tests import factories
from tests.subprocess_env import database_url, smartoa

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

DAY = date(2026, 3, 10)
MODELS = [Contract, ApiToken, Consigne, ConsigneVersion, Acknowledgment, AuditEvent, OutboxMessage, Event]
MODELS += [CurveMonth, ContractMonth]


def populate() -> None:
    """Contracts with accounts (their login e-mails in the outbox), tokens, published consignes (one modified),
    acknowledgments, curves and the month's compliance results: every kind of row a backup must keep."""
    for n in range(1, 4):
        contract = factories.make_contract(f"BOA0000{n}")
        factories.add_account(contract, f"holder{n}@example.org")
        factories.make_token(contract)
        factories.make_consigne(contract, DAY, [(factories.at(DAY, 12), factories.at(DAY, 15), 1.0)])
        factories.load_curves(contract.contract_id, DAY, value=0.5)
    first = Contract.objects.get(contract_id="BOA00001")
    factories.make_consigne(first, DAY, [(factories.at(DAY, 11), factories.at(DAY, 16), 1.0)])  # a modification
    for contract in Contract.objects.all():
        factories.acknowledge(contract, DAY)
    run_compliance(DAY.replace(day=1), actor="test")
    for model in MODELS:
        assert model.objects.exists(), f"{model.__name__}: nothing to back up"
    assert ConsigneVersion.objects.filter(consigne__contract=first).count() == 2


def normalised(value):
    return bytes(value) if isinstance(value, memoryview) else value


def digests(cursor, tables: list[str]) -> dict[str, tuple[int, str]]:
    """Each table's row count and the SHA-256 of its rows, sorted (the same rows in any physical order agree)."""
    found = {}
    for table in tables:
        cursor.execute(f'SELECT * FROM "{table}"')
        rows = sorted(repr(tuple(normalised(v) for v in row)) for row in cursor.fetchall())
        found[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return found


def run(*command: str) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{command}: {done.stderr}"
    return done


def check_restored(url: str, restored: dict[str, tuple[int, str]], original: dict[str, tuple[int, str]]) -> None:
    assert restored == original
    for model in MODELS:
        count, _ = restored[model._meta.db_table]
        assert count == model.objects.count() > 0, model.__name__
    checked = smartoa("migrate", "--check", DATABASE_URL=url)
    assert checked.returncode == 0, checked.stderr
    shown = smartoa("consignes", "history", "BOA00001", DATABASE_URL=url)  # the platform's commands read the copy
    assert shown.returncode == 0, shown.stderr
    assert DAY.isoformat() in shown.stdout, shown.stdout


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL run of the suite")
def test_postgresql_dump_restored_into_an_empty_database(tmp_path):
    import psycopg

    populate()
    source = database_url()
    base, name = source.rsplit("/", 1)
    target_name = f"{name}_restored"
    target = f"{base}/{target_name}"
    admin = f"{base}/postgres"
    dump = tmp_path / "smartoa.dump"

    run("pg_dump", "--version")
    run("pg_dump", "-Fc", "-d", source, "-f", str(dump))  # while the platform runs: one consistent snapshot
    run("dropdb", "--if-exists", f"--maintenance-db={admin}", target_name)
    run("createdb", f"--maintenance-db={admin}", "-T", "template0", target_name)
    try:
        empty = smartoa("migrate", "--check", DATABASE_URL=target)
        assert empty.returncode != 0, "an empty database passed the migrations check"
        run("pg_restore", "--no-owner", "--exit-on-error", "-d", target, str(dump))

        tables = connection.introspection.table_names()
        both = []
        for url in (source, target):  # the same plain client on both sides (Django's cursor converts values)
            with psycopg.connect(url) as db, db.cursor() as cursor:
                found = digests(cursor, tables)
                # Sequences come back too: the next row of each table gets a new id.
                cursor.execute("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")
                both.append((found, cursor.fetchall()))
        (original, original_sequences), (restored, restored_sequences) = both
        assert restored_sequences == original_sequences
        check_restored(target, restored, original)
    finally:
        subprocess.run(
            ["dropdb", "--if-exists", "--force", f"--maintenance-db={admin}", target_name],
            capture_output=True,
            check=False,
        )


BACKUP = "import sqlite3, sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite run of the suite")
def test_sqlite_online_backup_restored_into_a_new_file(tmp_path):
    populate()
    source = Path(connection.settings_dict["NAME"])
    backup, target = tmp_path / "backup.sqlite3", tmp_path / "restored" / "smartoa.sqlite3"
    target_url = f"sqlite:///{target}"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"

    # The documented online backup, while the test's connection (the running platform) holds the database open.
    run(sys.executable, "-c", BACKUP, str(source), str(backup))
    empty = smartoa("migrate", "--check", DATABASE_URL=target_url)  # creates the folder and an empty file
    assert empty.returncode != 0, "an empty database passed the migrations check"
    run(sys.executable, "-c", BACKUP, str(backup), str(target))  # restore: the backup copied into the new file

    tables = connection.introspection.table_names()
    with sqlite3.connect(source) as source_db:  # the same plain client on both sides (Django's converts values)
        original = digests(source_db.cursor(), tables)
    with sqlite3.connect(target) as restored_db:
        restored = digests(restored_db.cursor(), tables)
        assert restored_db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check_restored(target_url, restored, original)
