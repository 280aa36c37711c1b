"""A day's consigne as a small timeline: server-side SVG, no script. The day's 5-minute steps (276, 288 or 300)
run left to right; stop periods are drawn in red, with the local hours 0, 6, 12, 18 and 24 marked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from smartoa.domain.calendar import to_local
from smartoa.domain.curves import Grid, stop_spans
from smartoa.domain.deadlines import local_time_on
from smartoa.domain.schedule import Period

HEIGHT = 28
BAR = 18


def summary(periods: Sequence[Period] | None) -> str:
    """The schedule in words: "Arrêt 11:55–18:00", "Limitation à 0.5 12:00–14:00", "Pas d'arrêt" or "Pas de
    consigne publiée" (local times; 24:00 for the day's end)."""
    if periods is None:
        return _("Pas de consigne publiée")
    day_end = periods[-1].end if periods else None
    parts = []
    for p in periods:
        if p.value <= 0:
            continue
        end = "24:00" if p.end == day_end else to_local(p.end).strftime("%H:%M")
        span = f"{to_local(p.start).strftime('%H:%M')}–{end}"
        parts.append(
            span if p.value >= 1 else _("%(span)s (limitation à %(value)s)") % {"span": span, "value": p.value}
        )
    if not parts:
        return _("Pas d'arrêt")
    return _("Arrêt %(periods)s") % {"periods": ", ".join(parts)}


@dataclass(frozen=True)
class Timeline:
    svg: SafeString
    summary: str
    ticks: list[tuple[float, str]]  # (position in % of the width, local hour label)


def timeline(day: date, periods: Sequence[Period] | None) -> Timeline:
    """``day``'s schedule (``periods``; None: nothing published) as an SVG bar with its text alternative, and
    the positions of the hour labels to print under it. Many contracts share a schedule: each is drawn once."""
    return _timeline(day, None if periods is None else tuple(periods), get_language())


@lru_cache(maxsize=512)
def _timeline(day: date, periods: tuple[Period, ...] | None, language: str | None) -> Timeline:
    grid = Grid.for_days(day, day)
    width = grid.n_steps
    spans = stop_spans(periods or (), grid)
    steps = {hour: grid.step_of(local_time_on(day, time(hour))) for hour in (6, 12, 18)}
    text = summary(periods)
    state = "none" if periods is None else "stop" if spans else "free"
    svg = format_html(
        '<svg class="timeline timeline-{}" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" '
        'aria-label="{}"><rect class="day" x="0" y="0" width="{}" height="{}"></rect>{}{}</svg>',
        state,
        width,
        HEIGHT,
        text,
        width,
        BAR,
        format_html_join(
            "", '<rect class="stop" x="{}" y="0" width="{}" height="{}"></rect>', ((a, b - a, BAR) for a, b, _ in spans)
        ),
        format_html_join(
            "", '<line class="tick" x1="{}" y1="0" x2="{}" y2="{}"></line>', ((x, x, HEIGHT) for x in steps.values())
        ),
    )
    ticks = [(0.0, "0 h")] + [(round(100 * x / width, 2), f"{hour} h") for hour, x in steps.items()] + [(100.0, "24 h")]
    anchors = {0.0: "start", 100.0: "end"}
    labels = format_html(
        '<svg class="timeline-hours" width="100%" height="14" aria-hidden="true">{}</svg>',
        format_html_join(
            "",
            '<text x="{}%" y="11" text-anchor="{}">{}</text>',
            ((pos, anchors.get(pos, "middle"), label) for pos, label in ticks),
        ),
    )
    return Timeline(svg + labels, text, ticks)
