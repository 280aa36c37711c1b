"""Factories for billing tests: consigne versions and realised curves written directly."""

from datetime import UTC, date, datetime, timedelta

import pytest

from smartoa.consignes.models import Acknowledgment, Consigne
from smartoa.consignes.services import new_version
from smartoa.domain.calendar import PARIS, day_bounds, iso, steps
from smartoa.domain.schedule import ConsigneDocument, Period
from smartoa.metering.services import import_curves


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=PARIS)


@pytest.fixture
def make_consigne(db):
    """make_consigne(contract, day, [(start, end, value), ...]) adds the next version of that day's consigne."""

    def make(contract, day, stops=(), *, moment=None):
        start, end = day_bounds(day)
        periods, cursor = [], start
        for a, b, value in sorted(stops):
            if a > cursor:
                periods.append(Period(cursor, a, 0.0))
            periods.append(Period(a, b, float(value)))
            cursor = b
        if cursor < end:
            periods.append(Period(cursor, end, 0.0))
        consigne, _ = Consigne.objects.get_or_create(contract=contract, delivery_day=day)
        number = consigne.versions.count() + 1
        doc = ConsigneDocument(contract.contract_id, day, tuple(periods))
        version = new_version(consigne, doc, number=number, at=moment or datetime.now(UTC), actor="test")
        version.save()
        return version

    return make


@pytest.fixture
def acknowledge(db):
    def make(version):
        return Acknowledgment.objects.create(
            consigne=version.consigne,
            version=version,
            acknowledged_at=datetime.now(UTC),
            channel="portal",
            actor="test",
        )

    return make


def curve_csv(rows) -> bytes:
    return ("contract_id,start,energy_kwh\n" + "".join(f"{c},{s},{e}\n" for c, s, e in rows)).encode()


@pytest.fixture
def load_curves(db):
    """load_curves(contract_id, first_day, last_day, value=0.0, overrides={datetime: value}) imports a curve."""

    def make(contract_id, first, last=None, value=0.0, overrides=None, skip=(), name="test.csv"):
        overrides = {o.astimezone(UTC): v for o, v in (overrides or {}).items()}
        skipped = {s.astimezone(UTC) for s in skip}
        rows, day = [], first
        while day <= (last or first):
            for moment in steps(day):
                key = moment.astimezone(UTC)
                if key not in skipped:
                    rows.append((contract_id, iso(moment), overrides.get(key, value)))
            day += timedelta(days=1)
        return import_curves(curve_csv(rows), source_name=name, actor="test")

    return make
