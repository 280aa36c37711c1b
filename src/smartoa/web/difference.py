"""The difference between two versions of a day's consigne, drawn and said: a server-side SVG bar (stop time
kept, added and removed, on the day's 5-minute steps, as ``timeline`` draws a version) and each window added,
removed or moved in words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from smartoa.domain.curves import Grid, stop_spans
from smartoa.domain.schedule import Period
from smartoa.domain.windows import Window, WindowChange, clock_text, window_changes, windows_of
from smartoa.web.timeline import BAR, HEIGHT

KEPT, ADDED, REMOVED = "kept", "added", "removed"


@dataclass(frozen=True)
class Difference:
    svg: SafeString
    changes: list[str]  # each change in words, in time order

    @property
    def none(self) -> bool:
        return not self.changes


def window_text(day: date, window: Window) -> str:
    """``11:55–18:00``, with the limitation when the window does not stop production fully."""
    span = f"{clock_text(day, window.start)}–{clock_text(day, window.end)}"
    if window.value >= 1:
        return span
    return _("%(span)s (limitation à %(value)s)") % {"span": span, "value": number_format(window.value)}


def change_text(day: date, change: WindowChange) -> str:
    if change.kind == "added" and change.after is not None:
        return _("Fenêtre ajoutée : %(window)s") % {"window": window_text(day, change.after)}
    if change.kind == "removed" and change.before is not None:
        return _("Fenêtre retirée : %(window)s") % {"window": window_text(day, change.before)}
    before, after = change.before or change.after, change.after or change.before
    return _("Fenêtre déplacée : %(before)s devient %(after)s") % {
        "before": window_text(day, before),  # type: ignore[arg-type]  # a move has both
        "after": window_text(day, after),  # type: ignore[arg-type]
    }


def _values(periods: Sequence[Period], grid: Grid) -> list[float]:
    values = [0.0] * grid.n_steps
    for first, end, value in stop_spans(periods, grid):
        values[first:end] = [value] * (end - first)
    return values


def _runs(before: list[float], after: list[float]) -> list[tuple[int, int, str]]:
    """(first step, end step, kept/added/removed) for each run of steps of one kind."""
    kinds = [
        KEPT if a > 0 and a == b else ADDED if b > a else REMOVED if a > b else ""
        for a, b in zip(before, after, strict=True)
    ]
    runs: list[tuple[int, int, str]] = []
    for n, kind in enumerate(kinds):
        if runs and runs[-1][2] == kind and runs[-1][1] == n:
            runs[-1] = (runs[-1][0], n + 1, kind)
        elif kind:
            runs.append((n, n + 1, kind))
    return runs


def difference(day: date, before: Sequence[Period], after: Sequence[Period]) -> Difference:
    """How ``after`` differs from ``before`` (two schedules of ``day``)."""
    grid = Grid.for_days(day, day)
    runs = _runs(_values(before, grid), _values(after, grid))
    changes = [change_text(day, c) for c in window_changes(windows_of(before), windows_of(after))]
    label = "; ".join(changes) if changes else _("Aucune différence avec la version en vigueur")
    svg = format_html(
        '<svg class="timeline difference" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" '
        'aria-label="{}"><defs><pattern id="removed-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" class="removed-ground"></rect>'
        '<line x1="0" y1="0" x2="0" y2="6" class="removed-line"></line></pattern></defs>'
        '<rect class="day" x="0" y="0" width="{}" height="{}"></rect>{}</svg>',
        grid.n_steps,
        HEIGHT,
        label,
        grid.n_steps,
        BAR,
        format_html_join(
            "", '<rect class="{}" x="{}" y="0" width="{}" height="{}"></rect>', ((k, a, b - a, BAR) for a, b, k in runs)
        ),
    )
    return Difference(svg, changes)
