"""Prometheus metrics (``prometheus-client``): the counters the platform increments, the gauges computed when
``/metrics`` is scraped, and the multi-process mode of the served platform.

Counters (incremented where things happen): requests by endpoint (the route template, never the raw path),
method and status, with a latency histogram; acknowledgments by door; consigne versions published or modified;
outbox deliveries by kind and outcome. Gauges read at scrape time with a few queries (``PlatformCollector``): the
outbox backlog and the age of its oldest pending message, each periodic job's last success, and for the next two
HLARs their time and the contracts whose current version is not acknowledged.

``smartoa serve`` (gunicorn: several worker processes) and ``smartoa worker`` call ``use_multiprocess``: each
process writes its counters to memory-mapped files under ``DATA_DIR/metrics/<role>/`` (the folder of its role is
emptied when that role starts) and ``/metrics`` on any web worker sums the files of every role. Elsewhere (the
command line, tests, the stream process) the counters live in the process. Docs: docs/operations.md.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

log = logging.getLogger("smartoa.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "smartoa_http_requests_total",
    "HTTP requests answered, by endpoint (route template), method and status",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "smartoa_http_request_duration_seconds",
    "Time to answer an HTTP request (until the body is handed to the server), by endpoint",
    ["endpoint"],
    buckets=LATENCY_BUCKETS,
)
ACKNOWLEDGMENTS = Counter(
    "smartoa_acknowledgments_total", "Acknowledgments of consigne versions recorded, by door (api, portal)", ["door"]
)
VERSIONS = Counter(
    "smartoa_consigne_versions_total",
    "Consigne versions written: first versions published, or new versions of a modification",
    ["action"],
)
DELIVERIES = Counter(
    "smartoa_outbox_deliveries_total",
    "Outbox delivery attempts settled, by kind (email, webhook) and outcome (delivered, retried, failed)",
    ["kind", "outcome"],
)

_multiprocess_root: Path | None = None


def root(data_dir: Path) -> Path:
    return data_dir / "metrics"


def use_multiprocess(data_dir: Path, role: str) -> Path:
    """Write this process's (and its forks') counters under ``data_dir/metrics/role``, emptied first: a role
    (``web``, ``worker``) starts from zero; the other roles' files stay. Call before any counter is used."""
    global _multiprocess_root
    folder = root(data_dir) / role
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    values.ValueClass = values.MultiProcessValue()
    _multiprocess_root = root(data_dir)
    _children.clear()
    return folder


def process_exited(pid: int) -> None:
    """A gunicorn worker ended: its live gauges go (its counters stay summed, as Prometheus expects)."""
    if _multiprocess_root is not None:
        mark_process_dead(pid)


_children: dict = {}


def observe_request(endpoint: str, method: str, status: str, seconds: float) -> None:
    """Count one answered request and its latency (the labelled children are looked up once per process)."""
    key = (endpoint, method, status)
    counter = _children.get(key)
    if counter is None:
        counter = _children[key] = REQUESTS.labels(endpoint, method, status)
    histogram = _children.get(endpoint)
    if histogram is None:
        histogram = _children[endpoint] = LATENCY.labels(endpoint)
    counter.inc()
    histogram.observe(seconds)


def after_commit(counter: Counter, amount: float, *labels: str) -> None:
    """Increment ``counter`` once the current transaction commits (at once outside one): rolled back, nothing."""
    if amount <= 0:
        return
    from django.db import transaction

    transaction.on_commit(lambda: counter.labels(*labels).inc(amount))


class _MultiProcessFiles(Collector):
    """The counters of every role's processes, summed (``MultiProcessCollector`` over several folders)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def collect(self) -> Iterator[Metric]:
        files = [str(path) for path in sorted(self.folder.glob("*/*.db"))]
        return iter(MultiProcessCollector.merge(files, accumulate=True))


def exposition(*extra: Collector) -> bytes:
    """The text answered by ``/metrics``: the counters (of this process, or of every process in multi-process
    mode), then the gauges of ``extra`` collectors computed now."""
    if _multiprocess_root is not None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_MultiProcessFiles(_multiprocess_root))
    else:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Default())
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


class _Default(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class PlatformCollector(Collector):
    """Gauges read from the database at scrape time (a handful of queries); a part that fails is left out and
    ``smartoa_scrape_errors`` says how many failed."""

    def collect(self) -> Iterator[Metric]:
        errors = 0
        for part in (self.outbox, self.jobs, self.hlar):
            try:
                yield from list(part())
            except Exception:
                log.warning("a metrics query failed", exc_info=True)
                errors += 1
        gauge = GaugeMetricFamily("smartoa_scrape_errors", "Parts of the scrape-time gauges that could not be read")
        gauge.add_metric([], errors)
        yield gauge

    def outbox(self) -> Iterator[Metric]:
        from django.db.models import Count, Min

        from smartoa.core.clock import now
        from smartoa.notifications.models import OutboxMessage

        found = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).aggregate(
            count=Count("id"), oldest=Min("created_at")
        )
        backlog = GaugeMetricFamily("smartoa_outbox_pending_messages", "Outbox messages not yet delivered")
        backlog.add_metric([], found["count"])
        age = GaugeMetricFamily(
            "smartoa_outbox_oldest_pending_age_seconds", "Age of the oldest pending outbox message (0: none)"
        )
        age.add_metric([], max(0.0, (now() - found["oldest"]).total_seconds()) if found["oldest"] else 0.0)
        yield backlog
        yield age

    def jobs(self) -> Iterator[Metric]:
        from django.db.models import Max

        from smartoa.jobs.engine import SCHEDULED
        from smartoa.jobs.models import JobRun

        last = dict(
            JobRun.objects.filter(outcome=JobRun.Outcome.SUCCEEDED)
            .values("name")
            .annotate(last=Max("finished_at"))
            .values_list("name", "last")
        )
        success = GaugeMetricFamily(
            "smartoa_job_last_success_timestamp_seconds",
            "When each periodic job last succeeded (Unix time; 0: never)",
            labels=["job"],
        )
        period = GaugeMetricFamily("smartoa_job_period_seconds", "How often each periodic job runs", labels=["job"])
        for name in sorted(SCHEDULED):
            moment = last.get(name)
            success.add_metric([name], moment.timestamp() if moment else 0.0)
            period.add_metric([name], SCHEDULED[name].every.total_seconds())
        yield success
        yield period

    def hlar(self) -> Iterator[Metric]:
        from datetime import timedelta

        from smartoa.consignes.deadlines import hlars_for
        from smartoa.consignes.queries import current_rows
        from smartoa.core.clock import now
        from smartoa.domain.calendar import local_day_of

        today = local_day_of(now())
        # The HLAR of delivery day D is on D−1: today's HLAR closes tomorrow's day, tomorrow's the day after.
        days = {"today": today + timedelta(days=1), "tomorrow": today + timedelta(days=2)}
        hlars = hlars_for(days.values())
        waiting = dict.fromkeys(days.values(), 0)
        for _pk, day, _number, _periods, done in current_rows(
            min(days.values()), max(days.values()), acknowledged=True
        ):
            if not done:
                waiting[day] += 1
        at = GaugeMetricFamily("smartoa_hlar_timestamp_seconds", "Time of today's and tomorrow's HLAR", labels=["hlar"])
        open_ = GaugeMetricFamily(
            "smartoa_unacknowledged_contracts",
            "Contracts whose current version for the delivery day of that HLAR has no acknowledgment",
            labels=["hlar"],
        )
        for label, day in days.items():
            at.add_metric([label], hlars[day].timestamp())
            open_.add_metric([label], waiting[day])
        yield at
        yield open_


platform_collector = PlatformCollector()
