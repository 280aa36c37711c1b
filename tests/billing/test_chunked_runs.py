"""The monthly run by chunks of contracts: the same results whatever the chunk; a re-run after a revision
evaluates only the changed contract-months and keeps the others' stored results (and says so in the statements
and the audit); readers never see a half-written month (another connection, during the run)."""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta

import pytest
from django.db import connection, connections

from smartoa.audit.models import AuditEvent
from smartoa.billing import services
from smartoa.billing.models import ComplianceRun, ContractMonth, EpisodeResult
from smartoa.billing.services import latest_run, run_compliance
from smartoa.billing.statements import MonthRecomputed, build_statements, iter_statements
from smartoa.domain.calendar import iso
from tests.factories import at

SEPT = date(2025, 9, 1)
FIGURES = ("episodes", "checked_steps", "breach_steps", "missing_steps", "energy_during_stop_kwh", "excess_kwh")


def _random_month(make_contract, make_consigne, load_curves, seed: int, n: int = 5) -> None:
    """``n`` contracts with random stops on random days of September 2025 (one across midnight, one at the
    month's end) and curves with a few breaches and missing steps."""
    rng = random.Random(seed)
    for i in range(n):
        contract = make_contract(f"BOA{seed:02d}{i:03d}", power=rng.choice(["1", "12", "15.5"]))
        days = sorted(rng.sample(range(20, 31), 3))
        overrides, skip = {}, []
        for d in days:
            day = date(2025, 9, d)
            start = rng.randrange(8, 14)
            stops = [(at(day, start), at(day, start + rng.randrange(1, 5)), rng.choice([0.0, 0.5, 1.0]))]
            if d == 30 or rng.random() < 0.3:  # across midnight (and into October at the month's end)
                stops.append((at(day, 23), at(day, 23, 55), 1.0))
            make_consigne(contract, day, stops)
            overrides[at(day, start, 30)] = rng.choice([0.4, 2.0, 0.0])
            skip.append(at(day, start, 45))
        load_curves(contract.contract_id, date(2025, 9, 20), date(2025, 10, 1), 0.0, overrides, skip)


def _results(run: ComplianceRun) -> tuple[dict, list]:
    months = {
        m.contract_id: (tuple(getattr(m, f) for f in FIGURES), m.days, m.inputs, m.compensation)
        for m in ContractMonth.objects.filter(run=run)
    }
    episodes = sorted(
        (e.contract_id, e.start, e.end, e.checked_steps, e.breach_steps, e.missing_steps, e.excess_kwh)
        for e in EpisodeResult.objects.filter(run=run)
    )
    return months, episodes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_chunk_size_gives_the_results_of_one_batch(seed, make_contract, make_consigne, load_curves):
    _random_month(make_contract, make_consigne, load_curves, seed)
    whole = run_compliance(SEPT, actor="t", batch_size=10**6, full=True)
    expected = _results(whole)
    assert len(expected[0]) == 5 and expected[1]
    for size in (1, 2, 3):
        run = run_compliance(SEPT, actor="t", batch_size=size, full=True)
        assert (run.recomputed, run.reused_from, run.episodes) == (5, None, whole.episodes)
        assert _results(run) == expected
        # the month keeps one run's results: the previous runs' rows are gone
        assert set(ContractMonth.objects.values_list("run_id", flat=True)) == {run.pk}
        assert set(EpisodeResult.objects.values_list("run_id", flat=True)) == {run.pk}


def test_a_re_run_after_a_revision_recomputes_only_the_changed_contract(make_contract, make_consigne, load_curves):
    _random_month(make_contract, make_consigne, load_curves, 4)
    first = run_compliance(SEPT, actor="t", batch_size=2)
    before = _results(first)
    revised = ContractMonth.objects.filter(run=first).order_by("contract_id")[2].contract_id
    contract_id = ContractMonth.objects.get(run=first, contract_id=revised).contract.contract_id
    day = date(2025, 9, 25)
    load_curves(contract_id, day, day, 3.0, name="revision.csv")  # every step of the 25th revised

    evaluated = []
    original = services.evaluate_period

    def watching(first_day, last_day, contracts, **kwargs):
        evaluated.extend(c.pk for c in contracts)
        return original(first_day, last_day, contracts, **kwargs)

    services.evaluate_period = watching
    try:
        second = run_compliance(SEPT, actor="ops@example.org", batch_size=2)
    finally:
        services.evaluate_period = original
    assert evaluated == [revised]
    assert (second.contracts, second.recomputed, second.reused_from) == (5, 1, first)
    after = _results(second)
    assert {k: v for k, v in after[0].items() if k != revised} == {k: v for k, v in before[0].items() if k != revised}
    assert after[0][revised] != before[0][revised]
    assert after[0][revised][2]["curve_revisions"]["2025-09-25"] == 2
    assert [e for e in after[1] if e[0] != revised] == [e for e in before[1] if e[0] != revised]
    computed_by = dict(ContractMonth.objects.filter(run=second).values_list("contract_id", "computed_by_id"))
    assert computed_by == {pk: (second.pk if pk == revised else first.pk) for pk in computed_by}
    assert set(EpisodeResult.objects.values_list("run_id", flat=True)) == {second.pk}
    assert not EpisodeResult.objects.filter(computed_by=None).exists()
    # the same as a full run
    assert _results(run_compliance(SEPT, actor="t", full=True)) == after

    event = AuditEvent.objects.filter(action="compliance.run").order_by("pk")[1]
    assert (event.details["recomputed"], event.details["reused"], event.details["reused_from"]) == (1, 4, first.pk)


def test_statements_say_which_run_computed_them(make_contract, make_consigne, load_curves):
    _random_month(make_contract, make_consigne, load_curves, 5, n=3)
    first = run_compliance(SEPT, actor="t")
    one = ContractMonth.objects.filter(run=first).order_by("contract__contract_id").first()
    load_curves(one.contract.contract_id, date(2025, 9, 21), date(2025, 9, 21), 1.0, name="revision.csv")
    second = run_compliance(SEPT, actor="t")
    statements = build_statements(SEPT)
    assert [s["run"] for s in statements] == [second.pk] * 3
    assert [s["computed_by_run"] for s in statements] == [second.pk, first.pk, first.pk]
    assert [s["computed_at"] for s in statements] == [iso(second.finished_at)] + [iso(first.finished_at)] * 2
    assert [s["contract_id"] for s in iter_statements(SEPT, chunk=1)] == [s["contract_id"] for s in statements]
    assert list(iter_statements(SEPT, chunk=2)) == statements


def test_a_contract_whose_power_changed_is_computed_again(make_contract, make_consigne, load_curves):
    _random_month(make_contract, make_consigne, load_curves, 6, n=2)
    first = run_compliance(SEPT, actor="t")
    contract = ContractMonth.objects.filter(run=first).first().contract
    contract.installed_power = contract.installed_power + 1
    contract.save()
    second = run_compliance(SEPT, actor="t")
    assert second.recomputed == 1
    assert ContractMonth.objects.get(run=second, contract=contract).computed_by == second


def test_a_failed_run_leaves_the_previous_results_current(make_contract, make_consigne, load_curves):
    _random_month(make_contract, make_consigne, load_curves, 7, n=4)
    first = run_compliance(SEPT, actor="t")
    before = _results(first)
    calls = []

    def failing(done, total):
        calls.append(done)
        if len(calls) == 3:  # after the first chunk was written
            raise RuntimeError("worker stopped")

    with pytest.raises(RuntimeError):
        run_compliance(SEPT, actor="t", batch_size=1, full=True, progress=failing)
    assert latest_run(SEPT) == first and ComplianceRun.objects.get() == first
    assert _results(first) == before
    assert set(ContractMonth.objects.values_list("run_id", flat=True)) == {first.pk}


def test_a_month_read_while_it_is_computed_again_is_refused_not_mixed(make_contract, make_consigne, load_curves):
    _random_month(make_contract, make_consigne, load_curves, 8, n=3)
    run_compliance(SEPT, actor="t")
    reading = iter_statements(SEPT, chunk=1)
    next(reading)
    run_compliance(SEPT, actor="t", full=True)
    with pytest.raises(MonthRecomputed):
        list(reading)


@pytest.mark.django_db(transaction=True)
def test_readers_never_see_a_half_written_month(make_contract, make_consigne, load_curves):
    """Another connection (another thread) reads the month after each chunk is committed: it sees the previous
    run whole until the new one is complete, then the new one whole."""
    _random_month(make_contract, make_consigne, load_curves, 9, n=4)
    first = run_compliance(SEPT, actor="t")
    load_curves(
        ContractMonth.objects.filter(run=first).first().contract.contract_id,
        date(2025, 9, 22),
        date(2025, 9, 22),
        5.0,
        name="revision.csv",
    )
    seen = []

    def read() -> None:
        try:
            run = latest_run(SEPT)
            statements = build_statements(SEPT)
            seen.append((run.pk, len(statements), {s["run"] for s in statements}))
        finally:
            connections.close_all()

    def progress(done, total):
        reader = threading.Thread(target=read)
        reader.start()
        reader.join()

    second = run_compliance(SEPT, actor="t", batch_size=1, full=True, progress=progress)
    assert seen and all(s == (first.pk, 4, {first.pk}) for s in seen)
    read()
    assert seen[-1] == (second.pk, 4, {second.pk})
    assert connection.vendor in ("sqlite", "postgresql")


def test_a_re_run_with_another_tolerance_recomputes_everything(make_contract, make_consigne, load_curves):
    _random_month(make_contract, make_consigne, load_curves, 10, n=2)
    run_compliance(SEPT, actor="t")
    second = run_compliance(SEPT, actor="t", tolerance=(0.5, 1.0))
    assert (second.recomputed, second.reused_from) == (2, None)
    assert run_compliance(SEPT, actor="t", tolerance=(0.5, 1.0)).recomputed == 0
    assert timedelta(0) <= second.finished_at - second.started_at
