"""Compliance requests: an operator asks for a month's compliance to be computed (again); the worker runs it
(``billing/jobs.py``), recording its state — queued, running with its progress, done with its run, or failed with
why — on the request (``ComplianceRequest``). Every door goes through here: the back office queues the run, the
command line and the admin's operation run it at once, in their process; all refuse a second run of a month while
one is queued or running.

``request_run`` is called inside the caller's transaction (the job is queued when it commits); ``execute`` runs
outside any transaction, so that its progress is seen while it runs (``run_compliance`` writes the results in one
transaction of its own).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop

from smartoa.audit.services import record
from smartoa.billing.models import ComplianceRequest
from smartoa.billing.services import BATCH_CONTRACTS, run_compliance
from smartoa.consignes.models import ConsigneVersion
from smartoa.core.clock import now
from smartoa.domain.calendar import iso, parse_instant
from smartoa.domain.curves import month_days
from smartoa.domain.errors import Conflict, NotFound, UserError
from smartoa.jobs.engine import queue_task

log = logging.getLogger(__name__)

State = ComplianceRequest.State
# A pending request that has not moved for this long was abandoned (its worker stopped or was killed, or its job
# was lost): it is recorded as failed when the month is asked for again.
COMPLIANCE = "billing.compliance"  # the queued task that runs a request (billing/jobs.py), and its job runs
ABANDONED_AFTER = timedelta(minutes=30)


class RunPending(Conflict):
    """A run of the month is already queued or running."""

    code = "compliance_pending"


def request_run(month: date, *, actor: str, queue: bool = True) -> ComplianceRequest:
    """Record a request to compute ``month``'s compliance (queued) and, with ``queue``, queue its job on the
    worker once the caller's transaction commits. NotFound when the month has no consigne; RunPending while
    another run of the month is queued or running."""
    first = month.replace(day=1)
    days = month_days(first)
    if not ConsigneVersion.objects.filter(delivery_day__range=(days[0], days[-1])).exists():
        raise NotFound(gettext_noop("no consigne in %(month)s: nothing to check"), month=f"{first:%Y-%m}")
    _forget_abandoned(first)
    pending = ComplianceRequest.objects.filter(month=first, state__in=ComplianceRequest.ACTIVE).first()
    if pending is not None:
        raise _pending(pending)
    moment = now()
    try:
        with transaction.atomic():
            request = ComplianceRequest.objects.create(
                month=first, requested_by=actor, requested_at=moment, updated_at=moment
            )
    except IntegrityError:  # another operator's request won the race
        pending = ComplianceRequest.objects.filter(month=first, state__in=ComplianceRequest.ACTIVE).first()
        raise _pending(pending) from None
    record("compliance.requested", actor=actor, month=f"{first:%Y-%m}", request=request.pk)
    if queue:
        transaction.on_commit(lambda: queue_task(COMPLIANCE, request.pk), robust=True)
    return request


def _pending(request: ComplianceRequest | None) -> RunPending:
    if request is None:
        return RunPending(gettext_noop("a compliance run of this month is already queued or running"))
    template = (
        gettext_noop("a compliance run of %(month)s is already running (asked by %(actor)s at %(at)s)")
        if request.state == State.RUNNING
        else gettext_noop("a compliance run of %(month)s is already queued (asked by %(actor)s at %(at)s)")
    )
    return RunPending(template, month=f"{request.month:%Y-%m}", actor=request.requested_by, at=request.requested_at)


def _forget_abandoned(month: date) -> None:
    """Record as failed the month's pending request that has not moved for long: running, its worker died;
    queued, its job was lost (or no worker ran it). Its job, if it comes, then leaves it as it is."""
    limit = now() - ABANDONED_AFTER
    pending = ComplianceRequest.objects.filter(month=month, state__in=ComplianceRequest.ACTIVE, updated_at__lt=limit)
    for request in pending:
        _fail(request.pk, "interrupted", at=request.updated_at)


def execute(request_pk: int, *, batch_size: int = BATCH_CONTRACTS) -> ComplianceRequest:
    """Run the queued request ``request_pk``: running (with its progress), then done with the run it recorded, or
    failed with the error (raised again). A request that is no longer queued is left as it is (a job delivered
    twice)."""
    started = now()
    taken = ComplianceRequest.objects.filter(pk=request_pk, state=State.QUEUED).update(
        state=State.RUNNING, started_at=started, updated_at=started
    )
    request = ComplianceRequest.objects.get(pk=request_pk)
    if not taken:
        return request

    def progress(done: int, total: int) -> None:
        ComplianceRequest.objects.filter(pk=request_pk).update(done=done, total=total, updated_at=now())

    try:
        run = run_compliance(request.month, actor=request.requested_by, progress=progress, batch_size=batch_size)
    except NotFound as exc:
        _fail(request_pk, "no_consigne", **exc.params)
        raise
    except Exception as exc:
        log.exception("compliance request %s failed", request_pk)
        _fail(request_pk, "unexpected", error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    ComplianceRequest.objects.filter(pk=request_pk).update(state=State.DONE, run=run, finished_at=now())
    request.refresh_from_db()
    return request


# Why a request failed, by the code stored on it (the parameters stored beside).
FAILURES = {
    "no_consigne": gettext_noop("no consigne in %(month)s: nothing to check"),
    "interrupted": gettext_noop("interrupted: no progress since %(at)s"),
    "unexpected": gettext_noop("unexpected error: %(error)s"),
}


def _fail(request_pk: int, code: str, **params: object) -> None:
    """Record the request as failed, with why (a code of ``FAILURES`` and its parameters, as JSON)."""
    error = {"code": code, "params": {name: _text(value) for name, value in params.items()}}
    ComplianceRequest.objects.filter(pk=request_pk).update(state=State.FAILED, finished_at=now(), error=error)
    request = ComplianceRequest.objects.get(pk=request_pk)
    month = f"{request.month:%Y-%m}"
    record("compliance.failed", actor=request.requested_by, month=month, request=request_pk, why=code)


def _text(value: object) -> object:
    """A parameter as JSON: a date-time tagged (to be shown the reader's way), a nested refusal as its text."""
    if isinstance(value, datetime):
        return {"moment": iso(value)}
    return value if isinstance(value, int | float | str) else str(value)


def _value(stored: object) -> object:
    return parse_instant(stored["moment"]) if isinstance(stored, dict) and "moment" in stored else stored


def error_of(request: ComplianceRequest) -> UserError | None:
    """Why the request failed, as a refusal the pages translate (None: it did not fail)."""
    if request.state != State.FAILED or not request.error:
        return None
    code = request.error.get("code")
    params = {name: _value(value) for name, value in request.error.get("params", {}).items()}
    if code not in FAILURES:  # a code this version does not know
        return UserError(FAILURES["unexpected"], error=str(code))
    return UserError(FAILURES[code], **params)


def run_now(month: date, *, actor: str) -> ComplianceRequest:
    """Request and run ``month``'s compliance in this process (the command line, the admin's operation): the
    same refusals as a queued run; the run's error is raised."""
    with transaction.atomic():
        request = request_run(month, actor=actor, queue=False)
    return execute(request.pk)
