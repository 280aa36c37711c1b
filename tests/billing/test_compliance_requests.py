"""Compliance requests: queued → running (with its progress) → done with its run, or failed with why; a second run
of a month refused while one is queued or running; an abandoned run forgotten; every door (job, command line,
admin operation) through the same service."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from smartoa.audit.models import AuditEvent
from smartoa.billing import services
from smartoa.billing.models import ComplianceRequest, ComplianceRun, ContractMonth
from smartoa.billing.requests import ABANDONED_AFTER, RunPending, error_of, execute, request_run, run_now
from smartoa.domain.errors import NotFound
from smartoa.jobs.models import JobRun
from tests.factories import at

SEED = date(2025, 9, 22)
SEPT = date(2025, 9, 1)


@pytest.fixture
def three_contracts(make_contract, make_consigne, load_curves):
    """Three contracts stopped 11:55–18:00 on 22/09/2025; the first one produced 0.4 kWh at noon."""
    for n in (1, 2, 3):
        contract = make_contract(f"BOA0000{n}")
        make_consigne(contract, SEED, [(at(SEED, 11, 55), at(SEED, 18), 1.0)])
        load_curves(contract.contract_id, SEED, overrides={at(SEED, 12): 0.4} if n == 1 else None)


def test_a_request_is_queued_then_runs_with_its_progress_then_is_done(three_contracts):
    request = request_run(SEPT, actor="ops@example.org", queue=False)
    assert (request.state, request.done, request.total, request.run) == ("queued", 0, 0, None)
    seen = []
    original = services.evaluate_period

    def watching(*args, **kwargs):  # the request's progress as another reader sees it, before each batch
        seen.append(ComplianceRequest.objects.values_list("state", "done", "total").get(pk=request.pk))
        return original(*args, **kwargs)

    services.evaluate_period = watching
    try:
        done = execute(request.pk, batch_size=2)
    finally:
        services.evaluate_period = original
    assert seen == [("running", 0, 3), ("running", 2, 3)]
    assert (done.state, done.done, done.total) == ("done", 3, 3)
    assert done.run == ComplianceRun.objects.get() and done.started_at <= done.finished_at
    assert ContractMonth.objects.get(contract__contract_id="BOA00001").breach_steps == 1
    assert ContractMonth.objects.filter(breach_steps=0).count() == 2
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["compliance.requested", "compliance.run"]


def test_batches_give_the_same_results_as_one(three_contracts):
    run_compliance = services.run_compliance
    whole = run_compliance(SEPT, actor="t")
    one = {m.contract_id: (m.checked_steps, m.breach_steps, m.days, m.inputs) for m in ContractMonth.objects.all()}
    batched = run_compliance(SEPT, actor="t", batch_size=1)
    assert batched.episodes == whole.episodes == 3
    assert {
        m.contract_id: (m.checked_steps, m.breach_steps, m.days, m.inputs) for m in ContractMonth.objects.all()
    } == one


def test_a_second_run_of_the_month_is_refused_while_one_is_queued_or_running(three_contracts):
    first = request_run(SEPT, actor="a@example.org", queue=False)
    with pytest.raises(RunPending, match="already queued"):
        request_run(SEPT, actor="b@example.org", queue=False)
    ComplianceRequest.objects.filter(pk=first.pk).update(state="running")
    with pytest.raises(RunPending, match="already running"):
        run_now(SEPT, actor="cli")
    assert ComplianceRequest.objects.count() == 1 and not ComplianceRun.objects.exists()
    execute(first.pk)  # no longer queued: left as it is
    assert ComplianceRequest.objects.get().state == "running"
    ComplianceRequest.objects.filter(pk=first.pk).update(state="done")
    assert request_run(SEPT, actor="b@example.org", queue=False).state == "queued"


def test_a_run_abandoned_by_its_worker_is_recorded_failed_when_the_month_is_asked_again(three_contracts):
    stuck = request_run(SEPT, actor="a@example.org", queue=False)
    long_ago = stuck.requested_at - ABANDONED_AFTER - timedelta(minutes=1)
    ComplianceRequest.objects.filter(pk=stuck.pk).update(state="running", updated_at=long_ago)
    again = request_run(SEPT, actor="b@example.org", queue=False)
    stuck.refresh_from_db()
    assert stuck.state == "failed" and again.state == "queued"
    assert "interrupted" in str(error_of(stuck))
    ComplianceRequest.objects.filter(pk=again.pk).update(updated_at=long_ago)  # queued, its job lost
    third = request_run(SEPT, actor="c@example.org", queue=False)
    assert ComplianceRequest.objects.get(pk=again.pk).state == "failed" and third.state == "queued"
    execute(again.pk)  # its job comes after all: nothing happens
    assert ComplianceRequest.objects.get(pk=again.pk).state == "failed" and not ComplianceRun.objects.exists()


def test_a_month_without_consigne_is_refused_before_anything_is_recorded(db):
    with pytest.raises(NotFound, match="no consigne in 2024-01"):
        request_run(date(2024, 1, 1), actor="ops@example.org")
    assert not ComplianceRequest.objects.exists()


def test_a_failed_run_is_recorded_with_its_error_and_the_previous_results_stay(three_contracts, load_curves):
    previous = run_now(SEPT, actor="cli").run
    load_curves("BOA00002", SEED, value=0.1, name="revision.csv")  # something to evaluate again
    request = request_run(SEPT, actor="ops@example.org", queue=False)
    original = services._batch_results

    def broken(*args):
        raise ValueError("disk on fire")

    services._batch_results = broken
    try:
        with pytest.raises(ValueError):
            execute(request.pk)
    finally:
        services._batch_results = original
    request.refresh_from_db()
    assert request.state == "failed" and request.finished_at is not None and request.run is None
    assert str(error_of(request)) == "unexpected error: ValueError: disk on fire"
    assert ContractMonth.objects.filter(run=previous).count() == 3  # the month's results are untouched
    assert AuditEvent.objects.filter(action="compliance.failed").count() == 1


def test_the_queued_job_runs_after_the_commit_and_is_recorded(three_contracts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        request = request_run(SEPT, actor="ops@example.org")
        assert ComplianceRequest.objects.get().state == "queued"
    assert len(callbacks) == 1
    request.refresh_from_db()
    assert request.state == "done" and request.total == 3
    job = JobRun.objects.get(name="billing.compliance")
    assert job.outcome == "succeeded" and job.counts == {"request": request.pk, "contracts": 3}


def test_the_command_goes_through_a_request_and_says_a_pending_run(three_contracts, capsys):
    call_command("compliance", "run", "--month", "2025-09")
    assert ComplianceRequest.objects.get().state == "done"
    assert "3 contract(s), 3 episode(s) checked" in capsys.readouterr().out
    request_run(SEPT, actor="ops@example.org", queue=False)
    with pytest.raises(CommandError, match="already queued"):
        call_command("compliance", "run", "--month", "2025-09")
