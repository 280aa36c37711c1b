"""The setpoint schedule of a day for a plant controller: one CSV row per 5- or 15-minute step, local time, UTC and
the setpoint. A step that overlaps a stop period at all is a stop step (the safe side: the plant is stopped for
the whole step), so a stop that starts at 11:55 stops the 15-minute step from 11:45."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, timedelta

from smartoa_client.documents import PARIS, Consigne, day_bounds


def steps(consigne: Consigne, minutes: int) -> list[tuple[str, str, bool]]:
    """(local time, UTC time, stop) for each step of the consigne's day."""
    if minutes not in (5, 15):
        raise ValueError("the step must be 5 or 15 minutes")
    start, end = day_bounds(consigne.application_date)
    step = timedelta(minutes=minutes)
    rows = []
    moment = start.astimezone(UTC)
    last = end.astimezone(UTC)
    while moment < last:
        following = moment + step
        stop = any(p.stop and p.start_date < following and p.end_date > moment for p in consigne.data)
        rows.append((moment.astimezone(PARIS).isoformat(), moment.isoformat().replace("+00:00", "Z"), stop))
        moment = following
    return rows


def schedule_csv(consignes: Iterable[Consigne], minutes: int = 15, stop_value: str = "1", run_value: str = "0") -> str:
    """The CSV (``contract,local_time,utc_time,setpoint``) of the consignes' days; ``stop_value`` and ``run_value``
    are what the controller expects for "stop" and "produce" (e.g. 0 and 100 for a percentage of power)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["contract", "local_time", "utc_time", "setpoint"])
    for consigne in consignes:
        for local, utc, stop in steps(consigne, minutes):
            writer.writerow([consigne.id, local, utc, stop_value if stop else run_value])
    return out.getvalue()
