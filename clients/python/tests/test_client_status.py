"""``status`` says when its information is stale: the store is only as fresh as its last successful call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smartoa_client.config import from_dict
from smartoa_client.status import CRITICAL, OK, WARNING, report
from smartoa_client.store import Store


def test_status_warns_then_is_critical_as_the_store_gets_stale_with_configurable_thresholds(tmp_path):
    contracts = [{"id": "BOA00001", "token_env": "T"}]
    config = from_dict({"base_url": "http://x", "contracts": contracts})
    store = Store(tmp_path / "s.sqlite3")
    store.succeeded("BOA00001")
    last = store.contract("BOA00001").last_success_at
    assert last is not None
    assert report(config, store, last + timedelta(minutes=5)) == (OK, "SMARTOA-CLIENT OK - 1 contract(s) fine")
    level, line = report(config, store, last + timedelta(minutes=20))
    assert level == WARNING and "BOA00001: no successful call for 20 min, information stale (as of " in line
    level, line = report(config, store, last + timedelta(hours=3))
    assert level == CRITICAL and "no successful call for 3 h 00, information stale" in line

    tight = from_dict(
        {
            "base_url": "http://x",
            "contracts": contracts,
            "thresholds": {"silence_warning_minutes": 2, "silence_critical_minutes": 4},
        }
    )
    assert report(tight, store, last + timedelta(minutes=3))[0] == WARNING
    assert report(tight, store, last + timedelta(minutes=5))[0] == CRITICAL
    assert report(tight, store, last + timedelta(minutes=1))[0] == OK


def test_status_is_critical_when_nothing_was_ever_fetched(tmp_path):
    config = from_dict({"base_url": "http://x", "contracts": [{"id": "BOA00001", "token_env": "T"}]})
    level, line = report(config, Store(tmp_path / "s.sqlite3"), datetime.now(UTC))
    assert (level, line) == (CRITICAL, "SMARTOA-CLIENT CRITICAL - BOA00001: no successful call recorded")
