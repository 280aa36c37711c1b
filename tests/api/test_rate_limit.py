"""Refused API calls (401/403) are rate-limited per address in the shared cache (429 with Retry-After), audited
and logged in aggregate; a call that authenticates never touches the cache."""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta

import pytest
from django.core.cache import caches
from django.db import transaction

from smartoa.api import refusals
from smartoa.audit.models import AuditEvent
from smartoa.contracts.services import add_ips
from tests.factories import paris, publish_day

BAD = "soa_" + "x" * 43
IP = "80.12.34.7"


@pytest.fixture(autouse=True)
def _per_hour(settings):
    """The default rate per hour rather than per minute: django-ratelimit's periods are fixed windows, which a
    test's few calls could straddle (the count would restart in the middle)."""
    assert settings.SMARTOA_API_FAILURE_RATE == "20/m"
    settings.SMARTOA_API_FAILURE_RATE = "20/h"


@pytest.fixture
def token(make_contract, issue_token, settings):
    settings.SMARTOA_NOW = paris("2025-09-21", "12:55")
    contract = make_contract("BOA00001")
    publish_day(contract, date(2025, 9, 22))
    return issue_token(contract)


def effacement(wsgi, token, ip=IP, **kwargs):
    return wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"}, remote_addr=ip, **kwargs)


def test_too_many_refusals_from_an_address_are_429(wsgi, token):
    assert [effacement(wsgi, BAD).status for _ in range(20)] == [401] * 20
    limited = effacement(wsgi, BAD)
    assert limited.status == 429 and limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 3600 and limited.json()["message"]
    # The Django routes share the counter of the address; another address is not limited.
    post = wsgi("POST", "/api/v1/acquiescement", headers={"Authorization": f"Bearer {BAD}"}, remote_addr=IP)
    assert post.status == 429
    assert effacement(wsgi, BAD, ip="80.12.34.8").status == 401


def test_a_valid_token_is_served_from_a_limited_address_without_touching_the_cache(
    wsgi, token, monkeypatch, django_assert_num_queries
):
    for _ in range(25):
        effacement(wsgi, BAD)
    assert effacement(wsgi, BAD).status == 429

    def no_cache(*args, **kwargs):
        raise AssertionError("the cache was used for a call that authenticates")

    monkeypatch.setattr(refusals, "get_usage", no_cache)
    with django_assert_num_queries(1):  # the authentication statement, nothing else
        assert effacement(wsgi, token).status == 200


def test_ip_refusals_count_in_production(wsgi, make_contract, issue_token, settings):
    settings.PRODUCTION = True
    contract = make_contract("BOA00009")
    with transaction.atomic():
        add_ips(contract, ["80.12.34.200"], actor="test")
    token = issue_token(contract)
    assert effacement(wsgi, token, ip="80.12.34.200").status == 404  # authenticated: nothing published
    assert {effacement(wsgi, token).status for _ in range(20)} == {403}
    assert effacement(wsgi, token).status == 429


def test_an_ipv6_subscriber_is_counted_on_its_64(wsgi, token):
    for i in range(20):
        assert effacement(wsgi, BAD, ip=f"2a01:cb00:1:2::{i + 1:x}").status == 401
    assert effacement(wsgi, BAD, ip="2a01:cb00:1:2:ffff::1").status == 429
    assert effacement(wsgi, BAD, ip="2a01:cb00:1:3::1").status == 401


def test_the_rate_follows_the_setting(wsgi, token, settings):
    settings.SMARTOA_API_FAILURE_RATE = "3/h"
    assert [effacement(wsgi, BAD).status for _ in range(5)] == [401, 401, 401, 429, 429]


def test_refusals_are_audited_once_per_address_and_period(wsgi, token, settings, caplog):
    caplog.set_level(logging.WARNING, logger="smartoa.security")
    for _ in range(30):
        effacement(wsgi, BAD)
    effacement(wsgi, BAD, ip="80.12.34.8")
    assert not AuditEvent.objects.filter(action="api.refused").exists()  # counted, not yet reported
    assert len(caplog.records) == 2  # the first refusal of each address, not one line per request
    settings.SMARTOA_NOW += refusals.REPORT_EVERY
    assert effacement(wsgi, token).status == 200  # any call after the period reports the last one
    events = {e.ip: e for e in AuditEvent.objects.filter(action="api.refused")}
    assert set(events) == {IP, "80.12.34.8"}
    assert events[IP].details["count"] == 30
    assert events[IP].details["codes"] == {"unknown_token": 20, "rate_limited": 10}
    assert events["80.12.34.8"].details["count"] == 1
    summary = [r.getMessage() for r in caplog.records[2:]]
    assert len(summary) == 1 and "30 calls from 80.12.34.7" in summary[0]


def test_audit_names_the_contract_of_a_revoked_token(wsgi, token, issue_token, settings):
    from smartoa.contracts.models import Contract

    contract = Contract.objects.get(contract_id="BOA00001")
    issue_token(contract)  # revokes ``token``
    for _ in range(3):
        assert effacement(wsgi, token).status == 401
    refusals.flush_tally()
    event = AuditEvent.objects.get(action="api.refused")
    assert event.contract == contract and event.details["contracts"] == ["BOA00001"]
    assert event.details["codes"] == {"revoked_token": 3}


@pytest.fixture
def redis_cache(settings):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"smartoa-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}
    }
    client = redis.Redis.from_url(url)
    yield client, prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_redis_holds_the_counters_when_configured(wsgi, token, redis_cache):
    client, prefix = redis_cache
    assert [effacement(wsgi, BAD).status for _ in range(21)] == [401] * 20 + [429]
    keys = list(client.scan_iter(f"{prefix}:*"))
    assert len(keys) == 1 and int(client.get(keys[0])) == 21
    assert caches["default"].__class__.__name__ == "RedisCache"


def test_a_cache_that_fails_never_refuses_a_client(wsgi, token, settings, caplog):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    caplog.set_level(logging.ERROR, logger="smartoa.outage")
    assert [effacement(wsgi, BAD).status for _ in range(25)] == [401] * 25  # fails open: no 429, no 500
    assert effacement(wsgi, token).status == 200
    reports = [r for r in caplog.records if r.name == "smartoa.outage"]
    assert len(reports) == 1 and "shared cache unavailable" in reports[0].getMessage()


def test_the_report_period_restarts(token):
    tally = refusals.RefusalTally(every=timedelta(minutes=5))
    moment = paris("2025-09-21", "12:00")
    assert tally.add("80.12.34.7", "unknown_token", None, moment) is True
    assert tally.add("80.12.34.7", "unknown_token", None, moment) is False
    tally.flush_if_due(moment + timedelta(minutes=4))
    assert tally.addresses
    tally.flush_if_due(moment + timedelta(minutes=5))
    assert not tally.addresses and tally.since is None
    assert AuditEvent.objects.get(action="api.refused").details["count"] == 2
