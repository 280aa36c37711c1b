"""deploy/prometheus/alerts.yml: valid rule groups (YAML, each rule named with an expression), naming only metrics
the platform exposes; ``promtool check rules`` when promtool is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from smartoa.core import metrics

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
SCRAPE_TIME = {
    "smartoa_outbox_pending_messages",
    "smartoa_outbox_oldest_pending_age_seconds",
    "smartoa_job_last_success_timestamp_seconds",
    "smartoa_job_period_seconds",
    "smartoa_hlar_timestamp_seconds",
    "smartoa_unacknowledged_contracts",
    "smartoa_scrape_errors",
    "smartoa_stream_open_connections",
}


def test_rules_parse_and_name_known_metrics():
    document = yaml.safe_load(RULES.read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert {"SmartOAJobNotRun", "SmartOAOutboxStuck", "SmartOAUnacknowledgedBeforeHLAR", "SmartOAHigh5xxRate"} <= {
        rule["alert"] for rule in rules
    }
    known = set(SCRAPE_TIME)
    for counter in (metrics.REQUESTS, metrics.ACKNOWLEDGMENTS, metrics.VERSIONS, metrics.DELIVERIES):
        known.add(counter._name + "_total")
    known |= {metrics.LATENCY._name + suffix for suffix in ("_bucket", "_count", "_sum")}
    for rule in rules:
        assert rule["expr"] and rule["annotations"]["summary"]
        used = set(re.findall(r"\bsmartoa_[a-z_]+", rule["expr"]))
        assert used <= known, used - known


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_rules():
    result = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
