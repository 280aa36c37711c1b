"""End to end: the real ``smartoa-client`` command against a real running platform (``smartoa serve`` on the test
database, behind a relay standing for the network): a fleet fetched, acknowledgments, status exit codes, a 429
and a server restart survived, a token renewed, DST days each way, the watch running the user's command and
acknowledging only after it succeeded."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta

import httpx
import pytest
from django.core.cache import cache
from tests.factories import make_token, modify_day, periods_with, publish_day, stop_periods

from client_platform import Watch, client_env, python_command, run_client, start_platform, wait_until, write_config
from smartoa.consignes.acknowledgments import acknowledgment_state
from smartoa.domain.calendar import PARIS
from smartoa_client.api import Client

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def future_day(days: int = 5) -> date:
    return datetime.now(PARIS).date() + timedelta(days=days)


def paris(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=PARIS)


@pytest.fixture
def platform(tmp_path):
    running = start_platform(tmp_path, with_stream=False)
    yield running
    running.stop()
    cache.clear()


@pytest.fixture
def fleet(make_contract):
    """Three contracts with their tokens: {id: (contract, token)}."""
    result = {}
    for number in (1, 2, 3):
        contract = make_contract(f"BOA0000{number}")
        result[contract.contract_id] = (contract, make_token(contract))
    return result


def receipts(tmp_path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "client.sqlite3") as db:
        return db.execute(
            "SELECT contract, day, version, source, received_at, raw FROM receipts ORDER BY id"
        ).fetchall()


def test_a_fleet_is_fetched_concurrently_and_every_version_is_kept(platform, fleet, tmp_path):
    day = future_day()
    for contract, _ in fleet.values():
        publish_day(contract, day)
    config = write_config(
        tmp_path,
        platform.url,
        [("BOA00001", "env", fleet["BOA00001"][1]), ("BOA00002", "file", fleet["BOA00002"][1]),
         ("BOA00003", "file", fleet["BOA00003"][1])],
    )  # fmt: skip
    tokens = {"BOA00001": fleet["BOA00001"][1]}

    done = run_client(config, "fetch", tokens=tokens)
    assert done.returncode == 0, done.stderr
    for contract in fleet:
        assert f"{contract} {day} v1 new: 11:55-18:00; NOT acknowledged; HLAR {day - timedelta(days=1)}T16:30" in (
            done.stdout
        )
    kept = receipts(tmp_path)
    assert sorted(r[0] for r in kept) == list(fleet) and {r[2] for r in kept} == {1}
    served = httpx.get(f"{platform.url}/api/v1/effacement", headers={"Authorization": f"Bearer {tokens['BOA00001']}"})
    assert [r[5] for r in kept if r[0] == "BOA00001"] == [served.content]  # the bytes as the server sent them

    assert "v1 unchanged" in run_client(config, "fetch", "--contract", "BOA00001", tokens=tokens).stdout

    with Client(platform.url, tokens["BOA00001"], contract="BOA00001") as client:  # cheap polling: 304
        first = client.latest()
        assert first.etag and first.consigne is not None
        again = client.latest(etag=first.etag)
        assert again.not_modified and again.consigne is None and again.raw == b""
    modify_day(fleet["BOA00001"][0], day, periods_with(day, [(paris(day, 9), paris(day, 10), 1.0)]))
    done = run_client(config, "fetch", "--json", tokens=tokens)
    assert done.returncode == 0, done.stderr
    documents = json.loads(done.stdout)
    assert len(documents) == 3
    assert [r[2] for r in receipts(tmp_path) if r[0] == "BOA00001"] == [1, 2]


def test_acknowledgment_and_status_exit_codes(platform, fleet, tmp_path):
    day = future_day()
    token = fleet["BOA00001"][1]
    publish_day(fleet["BOA00001"][0], day)
    tokens = {"BOA00001": token}

    def configured(**thresholds):
        return write_config(tmp_path, platform.url, [("BOA00001", "env", token)], thresholds=thresholds)

    config = configured()
    status = run_client(config, "status", tokens=tokens)
    assert (status.returncode, status.stdout.strip()) == (
        2,
        "SMARTOA-CLIENT CRITICAL - BOA00001: no successful call recorded",
    )
    assert run_client(config, "fetch", tokens=tokens).returncode == 0
    assert run_client(config, "status", tokens=tokens).returncode == 0  # HLAR days away: fine

    config = configured(hlar_warning_minutes=14 * 24 * 60)
    status = run_client(config, "status", tokens=tokens)
    assert status.returncode == 1 and f"SMARTOA-CLIENT WARNING - BOA00001 {day} v1 not acknowledged, HLAR in" in (
        status.stdout
    )
    config = configured(hlar_warning_minutes=14 * 24 * 60, hlar_critical_minutes=14 * 24 * 60)
    assert run_client(config, "status", tokens=tokens).returncode == 2

    refused = run_client(config, "ack", "--all", "--day", day.isoformat(), "--version", "2", tokens=tokens)
    assert refused.returncode == 1 and "HTTP 409 stale_version" in refused.stderr
    assert not acknowledgment_state(fleet["BOA00001"][0], day).acknowledged

    done = run_client(config, "ack", "--all", "--day", day.isoformat(), "--version", "1", tokens=tokens)
    assert done.returncode == 0, done.stderr
    assert acknowledgment_state(fleet["BOA00001"][0], day).acknowledged
    status = run_client(config, "status", tokens=tokens)
    assert (status.returncode, status.stdout.strip()) == (0, "SMARTOA-CLIENT OK - 1 contract(s) fine")

    config = write_config(
        tmp_path, platform.url, [("BOA00001", "env", token)], thresholds={"silence_warning_minutes": 0}
    )
    status = run_client(config, "status", tokens=tokens)
    assert status.returncode == 1 and "BOA00001: no successful call for 0 min" in status.stdout


def test_a_429_and_a_server_restart_are_survived(platform, fleet, tmp_path):
    day = future_day()
    contract, token = fleet["BOA00001"]
    publish_day(contract, day)
    config = write_config(tmp_path, platform.url, [("BOA00001", "env", token)], retries=12)
    tokens = {"BOA00001": token}

    platform.relay.refuse_with_429(2)
    done = run_client(config, "fetch", tokens=tokens)
    assert done.returncode == 0, done.stderr
    assert platform.relay.answered_429 == 2
    assert done.stderr.count("HTTP 429 rate_limited: slow down; retrying in") == 2

    platform.server.stop()
    fetching = subprocess.Popen(
        [sys.executable, "-m", "smartoa_client.cli", "--config", str(config), "fetch"],
        env=client_env(tokens),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)  # the client meets a closed door and retries
    platform.restart_server()
    stdout, stderr = fetching.communicate(timeout=120)
    assert fetching.returncode == 0, stderr
    assert "network_error" in stderr and f"BOA00001 {day} v1 unchanged" in stdout


def test_a_token_is_renewed_and_written_back(platform, fleet, tmp_path):
    day = future_day()
    (c1, t1), (c2, t2) = fleet["BOA00001"], fleet["BOA00002"]
    publish_day(c1, day)
    publish_day(c2, day)
    config = write_config(
        tmp_path,
        platform.url,
        [("BOA00001", "env", t1), ("BOA00002", "file", t2)],
        thresholds={"token_warning_days": 365},
    )
    tokens = {"BOA00001": t1}
    done = run_client(config, "renew-token", "--all", tokens=tokens)
    assert done.returncode == 0, done.stderr
    token_file = tmp_path / "BOA00002.token"
    new_file_token = token_file.read_text().strip()
    assert new_file_token != t2 and (token_file.stat().st_mode & 0o777) == 0o600
    assert f"BOA00002: new token written to {token_file}" in done.stdout
    new_env_token = next(line for line in done.stdout.splitlines() if line.startswith("TOKEN_BOA00001="))
    new_env_token = new_env_token.split("=", 1)[1]
    assert "the old token is revoked; set TOKEN_BOA00001 to the new one" in done.stderr

    def status_of(token: str) -> int:
        return httpx.get(f"{platform.url}/api/v1/effacement", headers={"Authorization": f"Bearer {token}"}).status_code

    assert [status_of(t1), status_of(t2), status_of(new_env_token), status_of(new_file_token)] == [401, 401, 200, 200]
    done = run_client(config, "fetch", tokens={"BOA00001": new_env_token})
    assert done.returncode == 0, done.stderr
    status = run_client(config, "status", tokens={"BOA00001": new_env_token})
    assert status.returncode == 1 and "BOA00001: token expires in 18" in status.stdout  # ~182 days


def test_dst_days_each_way_are_accepted_and_exported(platform, fleet, tmp_path):
    contract, token = fleet["BOA00001"]
    spring, autumn = date(2027, 3, 28), date(2026, 10, 25)
    publish_day(contract, spring, stop_periods(spring, "03:00", "05:00"))  # 03:00+02:00 = 01:00 UTC
    publish_day(contract, autumn, stop_periods(autumn, "01:00", "03:00"))
    config = write_config(tmp_path, platform.url, [("BOA00001", "env", token)])
    tokens = {"BOA00001": token}
    done = run_client(config, "history", "--start", "2026-10-25", "--end", "2027-03-28", tokens=tokens)
    assert done.returncode == 0, done.stderr
    assert "BOA00001 2026-10-25 v1 new" in done.stdout and "BOA00001 2027-03-28 v1 new" in done.stdout

    rows = {}
    for day in (spring, autumn):
        done = run_client(config, "export", "--day", day.isoformat(), "--step", "15", tokens=tokens)
        assert done.returncode == 0, done.stderr
        rows[day] = done.stdout.splitlines()[1:]
    assert len(rows[spring]) == 92 and len(rows[autumn]) == 100
    assert rows[spring][8] == "BOA00001,2027-03-28T03:00:00+02:00,2027-03-28T01:00:00Z,1"
    assert [r.split(",")[1] for r in rows[autumn][8:13:4]] == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]
    done = run_client(config, "export", "--day", autumn.isoformat(), "--step", "5", tokens=tokens)
    assert len(done.stdout.splitlines()) == 1 + 300


def watcher_script(tmp_path, name: str, exit_status: int):
    """A user command: writes its stdin and environment to ``name``-<version>.json, exits ``exit_status``."""
    script = tmp_path / f"{name}.py"
    script.write_text(
        "import json, os, sys\n"
        "doc = sys.stdin.read()\n"
        f"path = os.path.join({str(tmp_path)!r}, {name!r} + '-' + os.environ['SMARTOA_VERSION'] + '.json')\n"
        "env = {k: v for k, v in os.environ.items() if k.startswith('SMARTOA_')}\n"
        "open(path, 'w').write(json.dumps({'doc': json.loads(doc), 'env': env}))\n"
        f"sys.exit({exit_status})\n"
    )
    return python_command(script)


def test_watch_by_polling_runs_the_command_then_acknowledges_only_after_it_succeeded(platform, fleet, tmp_path):
    """The stream unavailable (no stream process): the watch falls back to conditional polling, which with the
    periodic re-read finds each version."""
    day = future_day()
    (c1, t1), (c2, t2) = fleet["BOA00001"], fleet["BOA00002"]
    config = write_config(tmp_path, platform.url, [("BOA00001", "env", t1), ("BOA00002", "file", t2)],
                          poll_interval=0.5, reread_interval=2, stream_failures=2,
                          thresholds={"hlar_warning_minutes": 14 * 24 * 60})  # fmt: skip
    # per-contract commands: BOA00002's fails
    text = (
        config.read_text()
        .replace('id = "BOA00001"', f'id = "BOA00001"\ncommand = "{watcher_script(tmp_path, "ok", 0)}"')
        .replace('id = "BOA00002"', f'id = "BOA00002"\ncommand = "{watcher_script(tmp_path, "fails", 3)}"')
    )
    config.write_text(text)
    watch = Watch(config, "--ack", tokens={"BOA00001": t1})
    try:
        publish_day(c1, day)
        publish_day(c2, day)
        wait_until(lambda: (tmp_path / "ok-1.json").exists(), what="BOA00001's command", logs=watch.logs)
        wait_until(lambda: acknowledgment_state(c1, day).acknowledged, what="BOA00001's ack", logs=watch.logs)
        ran = json.loads((tmp_path / "ok-1.json").read_text())
        assert ran["doc"]["id"] == "BOA00001" and ran["doc"]["application_date"] == day.isoformat()
        assert ran["env"]["SMARTOA_CONTRACT"] == "BOA00001" and ran["env"]["SMARTOA_DAY"] == day.isoformat()

        wait_until(lambda: (tmp_path / "fails-1.json").exists(), what="BOA00002's command", logs=watch.logs)
        wait_until(lambda: "BOA00002 " + day.isoformat() + " v1: the command exited 3" in watch.logs(), logs=watch.logs)
        time.sleep(1)
        assert not acknowledgment_state(c2, day).acknowledged
        alarm = f"smartoa-client: WARNING: BOA00002 {day} v1 not acknowledged, HLAR in"
        wait_until(lambda: alarm in watch.logs(), what="the HLAR alarm", logs=watch.logs)
        assert f"BOA00001 {day} v1 not acknowledged" not in watch.logs()

        modify_day(c1, day, periods_with(day, [(paris(day, 9), paris(day, 10), 1.0)]))
        wait_until(lambda: (tmp_path / "ok-2.json").exists(), what="the modification", logs=watch.logs)
        wait_until(lambda: acknowledgment_state(c1, day).acknowledged_version == 2, logs=watch.logs)
        assert json.loads((tmp_path / "ok-2.json").read_text())["env"]["SMARTOA_VERSION"] == "2"
    finally:
        stopped = watch.stop()
    assert stopped == 0, watch.logs()
    assert not acknowledgment_state(c2, day).acknowledged
    assert "BOA00001: event stream unavailable" in watch.logs() and "polling every 0.5 s" in watch.logs()
