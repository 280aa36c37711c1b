"""A month's compliance requested from the back office's service and run by the real consumer (``smartoa worker``
in a subprocess, on a SQLite queue file): the request goes from queued to done with its run and its progress, and
the job run is recorded."""

from __future__ import annotations

import signal
from datetime import date

import pytest
from django.db import transaction

from smartoa.billing.models import ComplianceRequest, ContractMonth
from smartoa.billing.requests import request_run
from smartoa.jobs.engine import huey
from smartoa.jobs.models import JobRun
from tests.factories import at, load_curves, make_consigne
from tests.jobs.test_worker import Worker, queue, wait_until  # noqa: F401  (the queue fixture)

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]
SEED = date(2025, 9, 22)


def test_the_worker_runs_a_requested_month(tmp_path, queue, make_contract):  # noqa: F811
    for n in (1, 2):
        contract = make_contract(f"BOA0000{n}")
        make_consigne(contract, SEED, [(at(SEED, 11, 55), at(SEED, 18), 1.0)])
        load_curves(contract.contract_id, SEED, overrides={at(SEED, 12): 0.4} if n == 1 else None)
    with transaction.atomic():
        request = request_run(date(2025, 9, 1), actor="ops@example.org")
    assert huey.storage.queue_size() == 1 and ComplianceRequest.objects.get().state == "queued"
    worker = Worker(tmp_path, queue, "--workers", "1")
    try:
        wait_until(
            lambda: ComplianceRequest.objects.get(pk=request.pk).state in ("done", "failed"), what="the run to end"
        )
    finally:
        assert worker.stop(signal.SIGTERM) == 0, worker.logs()
    request.refresh_from_db()
    assert (request.state, request.done, request.total) == ("done", 2, 2), worker.logs()
    assert request.run is not None and request.run.contracts == 2
    assert ContractMonth.objects.get(contract__contract_id="BOA00001").breach_steps == 1
    assert JobRun.objects.get(name="billing.compliance").outcome == "succeeded"
