"""An outage is logged once with its traceback, then counted, then its end in one line."""

from __future__ import annotations

import logging

from smartoa.core.outage import Outage


def failure(text="connection refused"):
    try:
        raise ConnectionError(text)
    except ConnectionError as exc:
        return exc


def test_first_failure_with_traceback_then_counts_then_recovery(caplog):
    caplog.set_level(logging.INFO, logger="smartoa.outage")
    outage = Outage("database", summary_every=3600)
    for _ in range(1000):
        outage.failed(failure())
    assert len(caplog.records) == 1
    first = caplog.records[0]
    assert first.levelno == logging.ERROR and first.exc_info and "database unavailable" in first.getMessage()
    outage.succeeded()
    outage.succeeded()
    assert len(caplog.records) == 2 and "available again" in caplog.records[1].getMessage()
    assert "1000 requests failed" in caplog.records[1].getMessage()
    outage.failed(failure("again"))  # a new outage: reported in full again
    assert len(caplog.records) == 3 and caplog.records[2].exc_info


def test_a_long_outage_is_summarised_periodically(caplog):
    caplog.set_level(logging.INFO, logger="smartoa.outage")
    outage = Outage("shared cache", summary_every=0)
    for _ in range(3):
        outage.failed(failure())
    assert [r.exc_info is not None for r in caplog.records] == [True, False, False]
    assert "still unavailable" in caplog.records[1].getMessage() and "1 more failed" in caplog.records[1].getMessage()


def test_nothing_is_logged_while_all_is_well(caplog):
    outage = Outage("database")
    for _ in range(10):
        outage.succeeded()
    assert caplog.records == [] and not outage.ongoing
