"""A day's consigne in a table row: its summary in words ("Arrêt 11:55–18:00") and a small bar beside it (the
day's 5-minute steps left to right, stops in red, 6 h, 12 h and 18 h marked). The bar is decorative: the words say
it all. Many contracts share a schedule (the same prices make the same consigne), so each distinct stored
schedule is parsed and drawn once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, time
from functools import lru_cache

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from smartoa.consignes.queries import current_rows
from smartoa.domain.curves import Grid, stop_spans
from smartoa.domain.deadlines import local_time_on
from smartoa.domain.schedule import Period, no_stop_periods, periods_from_json
from smartoa.web.timeline import summary

HEIGHT = 4


@lru_cache(maxsize=1024)
def bar(day: date, periods: tuple[Period, ...] | None) -> SafeString:
    """``day``'s schedule (None: nothing published) as a bar of the day's steps, stops in red."""
    grid = Grid.for_days(day, day)
    width = grid.n_steps
    ticks = [grid.step_of(local_time_on(day, time(hour))) for hour in (6, 12, 18)]
    state = "none" if periods is None else "stop"
    return format_html(
        '<svg class="timeline timeline-{} daybar" viewBox="0 0 {} {}" preserveAspectRatio="none" aria-hidden="true" '
        'focusable="false"><rect class="day" x="0" y="0" width="{}" height="{}"></rect>{}{}</svg>',
        state,
        width,
        HEIGHT,
        width,
        HEIGHT,
        format_html_join(
            "",
            '<rect class="stop" x="{}" y="0" width="{}" height="{}"></rect>',
            ((a, b - a, HEIGHT) for a, b, _ in stop_spans(periods or (), grid)),
        ),
        format_html_join(
            "", '<line class="tick" x1="{}" y1="0" x2="{}" y2="{}"></line>', ((x, x, HEIGHT) for x in ticks)
        ),
    )


def day_bars(day: date, contract_pks: Iterable[int]) -> dict[int, tuple[str, SafeString]]:
    """(summary, bar) of the current consigne of ``day`` of each of the contracts, keyed by contract pk (one
    query); a contract without a consigne that day gets "no consigne published" and an empty bar."""
    drawn: dict[object, tuple[str, SafeString]] = {}
    found: dict[int, tuple[str, SafeString]] = {}
    pks = list(contract_pks)
    for contract_pk, _day, _number, stored, _ack in current_rows(day, day, pks):
        key = stored if stored is None or isinstance(stored, str) else json.dumps(stored, sort_keys=True)
        if key not in drawn:
            if stored is None:  # no stop that day: the rows carry no periods
                periods = no_stop_periods(day)
            else:
                periods = periods_from_json(json.loads(stored) if isinstance(stored, str) else stored)  # type: ignore[arg-type]
            drawn[key] = (summary(periods), bar(day, tuple(periods)))
        found[contract_pk] = drawn[key]
    if len(found) < len(pks):
        nothing = (summary(None), bar(day, None))
        found.update((pk, nothing) for pk in pks if pk not in found)
    return found
