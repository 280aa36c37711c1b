"""The billing jobs: a month's compliance, run by the worker when an operator asks for it (``billing/requests.py``),
each run recorded as a job run too."""

from __future__ import annotations

from smartoa.billing.requests import COMPLIANCE, execute
from smartoa.jobs.engine import task
from smartoa.jobs.runs import recorded


@task(name=COMPLIANCE)
def compute_compliance(request_pk: int) -> None:
    """Run the queued compliance request ``request_pk`` (its state, progress and outcome are on the request)."""
    with recorded(COMPLIANCE) as counts:
        request = execute(request_pk)
        counts.update(request=request_pk, contracts=request.total)
