"""The API's per-process state starts afresh in each test: the tally of refused calls and the outage reports."""

import pytest

from smartoa.api.refusals import discard_tally
from smartoa.core import outage


@pytest.fixture(autouse=True)
def _fresh_api_state():
    def reset():
        discard_tally()
        for tracker in (outage.database, outage.cache):
            tracker.since, tracker.failures, tracker.reported = None, 0, 0

    reset()
    yield
    reset()
