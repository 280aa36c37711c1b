"""Health probes and metrics in-process, through the production WSGI application: /healthz and /readyz answer
before Django; /metrics only for SMARTOA_METRICS_ALLOWED (through trusted proxies as the API reads addresses);
the counters move after real API calls (hot path and Django), an acknowledgment, a publication, a modification
and a delivery; the scrape-time gauges read the outbox, the job runs and the next HLARs."""

from __future__ import annotations

import ipaddress
import json
import logging
from datetime import date, timedelta

import pytest

from smartoa.core.clock import now
from smartoa.core.health import MigrationsApplied
from smartoa.core.logging import JsonFormatter, RequestIdFilter, bind_request_id, unbind_request_id
from smartoa.jobs.models import JobRun
from smartoa.jobs.runs import recorded
from tests.factories import (
    PUBLIC_IP,
    acknowledge,
    add_account,
    at,
    clock,
    deliver_outbox,
    make_contract,
    make_token,
    modify_day,
    outbox,
    publish_day,
    stop_periods,
)
from tests.ops.metrics_text import names, sample

DAY = date(2026, 12, 20)


def scrape(wsgi) -> str:
    answer = wsgi("GET", "/metrics")
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.body.decode()


def test_healthz_answers_without_django(wsgi, django_assert_num_queries):
    with django_assert_num_queries(0):
        answer = wsgi("GET", "/healthz")
    assert answer.status == 200 and answer.json() == {"status": "ok"}
    assert answer.headers["x-request-id"]
    assert wsgi("POST", "/healthz").status == 405


def test_readyz_names_every_check(wsgi):
    answer = wsgi("GET", "/readyz")
    assert answer.status == 200, answer.body
    assert answer.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "queue": "ok", "migrations": "ok"},
    }
    assert answer.headers["cache-control"] == "no-store"


def test_the_migrations_check_sees_an_unapplied_migration(db, monkeypatch):
    from django.db.migrations.recorder import MigrationRecorder

    check = MigrationsApplied()
    assert check() is None and check.applied
    fresh = MigrationsApplied()
    last = MigrationRecorder.Migration.objects.filter(app="jobs").latest("name")  # the app's newest migration
    last.delete()  # rolled back with the test
    assert "1 migration(s) not applied" in (fresh() or "")
    assert not fresh.applied
    assert check() is None  # remembered once true: no graph read per probe


def test_readyz_is_503_naming_the_failing_check(wsgi):
    from django.db.migrations.recorder import MigrationRecorder

    from smartoa.core import health

    health.migrations.applied = False
    try:
        MigrationRecorder.Migration.objects.filter(app="jobs").latest("name").delete()
        answer = wsgi("GET", "/readyz")
    finally:
        health.migrations.applied = False
    assert answer.status == 503
    body = answer.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert "not applied" in body["checks"]["migrations"]
    assert answer.headers["retry-after"]


def test_metrics_refused_to_other_addresses(wsgi, settings):
    assert wsgi("GET", "/metrics").status == 200  # loopback: allowed by default
    refused = wsgi("GET", "/metrics", remote_addr="203.0.113.9")
    assert refused.status == 404 and refused.json()["error"] == "not_found"
    assert b"smartoa_" not in refused.body
    # Through a trusted proxy on loopback, the client's address counts, not the proxy's; a forged header from a
    # client that is not a proxy changes nothing.
    settings.SMARTOA_TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    assert wsgi("GET", "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status == 404
    forged = wsgi("GET", "/metrics", remote_addr="203.0.113.9", headers={"X-Forwarded-For": "127.0.0.1"})
    assert forged.status == 404
    settings.SMARTOA_METRICS_ALLOWED = (ipaddress.ip_network("10.1.0.0/16"),)
    assert wsgi("GET", "/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status == 200
    assert wsgi("GET", "/metrics").status == 404  # loopback no longer listed


def test_api_calls_are_counted_by_route_and_status(wsgi):
    contract = make_contract("BOA00001")
    token = make_token(contract)
    before = scrape(wsgi)
    hot = {"endpoint": "/api/v1/effacement", "method": "GET"}
    assert wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"}).status == 404
    assert wsgi("GET", "/api/v1/effacement", headers={"Authorization": "Bearer nope"}).status == 401
    publish_day(contract, DAY)
    assert wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"}).status == 200
    history = wsgi(
        "GET",
        "/api/v1/effacements",
        headers={"Authorization": f"Bearer {token}"},
        query="start=2026-12-20&end=2026-12-20",
    )
    assert history.status == 200
    wsgi("GET", "/api/v1/no-such-thing")
    assert wsgi("GET", "/contrats/BOA00001/").status == 302  # to the login page, before the view
    after = scrape(wsgi)
    for status in ("200", "401", "404"):
        name = "smartoa_http_requests_total"
        assert sample(after, name, **hot, status=status) == sample(before, name, **hot, status=status) + 1
    django = {"endpoint": "/api/v1/effacements", "method": "GET", "status": "200"}
    assert sample(after, "smartoa_http_requests_total", **django) == 1 + sample(
        before, "smartoa_http_requests_total", **django
    )
    assert sample(after, "smartoa_http_requests_total", endpoint="unmatched", status="404") >= 1
    page = {"endpoint": "/contrats/<str:contract_id>/", "status": "302"}
    assert sample(after, "smartoa_http_requests_total", **page) == 1 + sample(
        before, "smartoa_http_requests_total", **page
    )
    # The latency histogram counts the same calls; no label holds a raw path or a token.
    count = "smartoa_http_request_duration_seconds_count"
    assert (
        sample(after, count, endpoint="/api/v1/effacement") == sample(before, count, endpoint="/api/v1/effacement") + 3
    )
    assert "no-such-thing" not in after and token not in after
    assert wsgi("GET", "/metrics").status == 200
    assert "/metrics" not in {
        line.split('endpoint="')[1].split('"')[0] for line in after.splitlines() if 'endpoint="' in line
    }


@pytest.mark.django_db(transaction=True)
def test_publications_acknowledgments_and_deliveries_are_counted(wsgi):
    contract = make_contract("BOA00001")
    add_account(contract, "holder@example.org")
    before, delivered_before = scrape(wsgi), len(outbox(kind="email", status="delivered"))
    publish_day(contract, DAY)
    modify_day(contract, DAY, stop_periods(DAY, "12:00", "13:00"), moment=at(DAY - timedelta(days=2), 12))
    acknowledge(contract, DAY, channel="api")
    acknowledge(contract, DAY, channel="portal")
    deliver_outbox()  # what the kick after each commit (immediate jobs) did not deliver yet
    after = scrape(wsgi)
    delivered = len(outbox(kind="email", status="delivered")) - delivered_before

    def moved(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("smartoa_consigne_versions_total", action="published") == 1
    assert moved("smartoa_consigne_versions_total", action="modified") == 1
    assert moved("smartoa_acknowledgments_total", door="api") == 1
    assert moved("smartoa_acknowledgments_total", door="portal") == 1
    assert delivered > 0
    assert moved("smartoa_outbox_deliveries_total", kind="email", outcome="delivered") == delivered


@pytest.mark.django_db(transaction=True)
def test_a_refused_publication_counts_nothing(wsgi):
    from smartoa.domain.errors import Conflict

    contract = make_contract("BOA00001")
    publish_day(contract, DAY)
    before = sample(scrape(wsgi), "smartoa_consigne_versions_total")
    with pytest.raises(Conflict):
        publish_day(contract, DAY)
    assert sample(scrape(wsgi), "smartoa_consigne_versions_total") == before


def test_scrape_time_gauges(wsgi, settings):
    settings.SMARTOA_NOW = at(DAY - timedelta(days=1), 10)  # the morning of the HLAR of DAY
    contract, other = make_contract("BOA00001"), make_contract("BOA00002")
    add_account(contract, "holder@example.org")
    with clock(settings.SMARTOA_NOW - timedelta(hours=1)):
        publish_day(contract, DAY)
    publish_day(other, DAY)
    acknowledge(other, DAY, moment=settings.SMARTOA_NOW)
    with clock(settings.SMARTOA_NOW - timedelta(hours=2)), recorded("notifications.purge"):
        pass
    text = scrape(wsgi)
    assert sample(text, "smartoa_unacknowledged_contracts", hlar="today") == 1
    assert sample(text, "smartoa_unacknowledged_contracts", hlar="tomorrow") == 0
    hlar_today = sample(text, "smartoa_hlar_timestamp_seconds", hlar="today")
    assert hlar_today == at(DAY - timedelta(days=1), 16, 30).timestamp()
    assert sample(text, "smartoa_hlar_timestamp_seconds", hlar="tomorrow") == hlar_today + 86400
    pending = sample(text, "smartoa_outbox_pending_messages")
    assert pending > 0  # the publication's e-mail waits for the worker
    assert sample(text, "smartoa_outbox_oldest_pending_age_seconds") == 3600
    success = sample(text, "smartoa_job_last_success_timestamp_seconds", job="notifications.purge")
    assert success == (settings.SMARTOA_NOW - timedelta(hours=2)).timestamp()
    assert JobRun.objects.filter(name="notifications.purge").count() == 1
    assert sample(text, "smartoa_job_period_seconds", job="notifications.purge") > 0
    assert sample(text, "smartoa_scrape_errors") == 0
    for name in ("smartoa_job_last_success_timestamp_seconds", "smartoa_outbox_oldest_pending_age_seconds"):
        assert name in names(text)


def test_json_log_lines(settings):
    record = logging.LogRecord("smartoa.api", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    token = bind_request_id("abc123")
    try:
        RequestIdFilter().filter(record)
    finally:
        unbind_request_id(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello world" and line["request_id"] == "abc123"
    assert line["level"] == "WARNING" and line["logger"] == "smartoa.api" and line["time"].endswith("+00:00")


@pytest.mark.parametrize(
    ("name", "value"),
    [("SMARTOA_LOG_FORMAT", "xml"), ("SMARTOA_METRICS_ALLOWED", "10.0.0.0/33"), ("SMARTOA_READY_TIMEOUT", "0")],
)
def test_invalid_settings_are_refused(name, value):
    from tests.subprocess_env import smartoa

    result = smartoa("check", **{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_now_is_aware():
    assert now().tzinfo is not None
    assert PUBLIC_IP
