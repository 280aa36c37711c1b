"""A delivery day's stop windows as an operator edits them: Paris clock times on the 5-minute grid, turned into
the day's full schedule, read back from one, and compared between two versions. Pure.

A window ``[start, end)`` stops production (value 1.0; a fraction limits it, offshore wind only). Its times are
written ``HH:MM`` in Paris local time, ``24:00`` for the end of the day. On the day clocks go back the hour
02:00–03:00 happens twice: a time in it carries its offset, ``02:30+02:00`` (the first, summer time) or
``02:30+01:00`` (the second, winter time); on the day clocks go forward that hour does not exist.

Instants are compared in UTC: two Europe/Paris datetimes compare by wall clock (see ``calendar``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from smartoa.domain.calendar import PARIS, STEP_5, day_bounds, to_local
from smartoa.domain.errors import InvalidInput, gettext_noop
from smartoa.domain.schedule import Period, validate_periods

CLOCK = re.compile(r"(\d{1,2})[:h](\d{2})(?:\s*([+-]\d{2}:\d{2}))?")
MAX_WINDOWS = 100


@dataclass(frozen=True, slots=True)
class Window:
    """One stop window of a day: ``[start, end)`` (aware instants) at ``value``."""

    start: datetime
    end: datetime
    value: float = 1.0

    def overlaps(self, other: Window) -> bool:
        return _utc(self.start) < _utc(other.end) and _utc(other.start) < _utc(self.end)

    def key(self) -> tuple[datetime, datetime, float]:
        return _utc(self.start), _utc(self.end), self.value


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _fixed(moment: datetime) -> datetime:
    """``moment`` in Paris time with a fixed offset, as parsed documents hold it: comparisons stay exact on the
    repeated hour."""
    local = to_local(moment)
    return local.replace(tzinfo=timezone(local.utcoffset() or timedelta(0)))


def _instants(day: date, hours: int, minutes: int) -> list[datetime]:
    """Every instant the Paris clock shows ``hours:minutes`` on ``day``: none (clocks go forward), one, or two
    (clocks go back), in time order."""
    wall = datetime.combine(day, time(hours, minutes))
    found: list[datetime] = []
    for fold in (0, 1):
        moment = wall.replace(tzinfo=PARIS, fold=fold)
        back = _utc(moment).astimezone(PARIS)
        if back.replace(tzinfo=None) == wall and _utc(back) not in [_utc(f) for f in found]:
            found.append(back)
    return sorted(found, key=_utc)


def _offset(moment: datetime) -> str:
    text = moment.strftime("%z")  # +0200
    return f"{text[:3]}:{text[3:]}"


def parse_clock(day: date, text: str) -> datetime:
    """The instant of ``day`` written ``HH:MM`` (Paris time; ``24:00`` is the end of the day; ``HH:MM+02:00`` on
    the repeated hour of the autumn change). InvalidInput for anything else, a time off the 5-minute grid, a time
    the day does not have, or an ambiguous one."""
    written = text.strip()
    match = CLOCK.fullmatch(written)
    if not match:
        raise InvalidInput(gettext_noop("%(text)r is not a time HH:MM"), text=written[:20])
    hours, minutes, offset = int(match[1]), int(match[2]), match[3]
    if (hours, minutes) == (24, 0) and not offset:
        return day_bounds(day)[1]
    if hours > 23 or minutes > 59:
        raise InvalidInput(gettext_noop("%(text)r is not a time HH:MM"), text=written[:20])
    shown = f"{hours:02d}:{minutes:02d}"
    if minutes % 5:
        raise InvalidInput(gettext_noop("%(time)s is not on the 5-minute grid (:00, :05 … :55)"), time=shown)
    found = _instants(day, hours, minutes)
    if not found:
        raise InvalidInput(gettext_noop("%(time)s does not exist on %(day)s (clocks go forward)"), time=shown, day=day)
    if offset:
        found = [moment for moment in found if _offset(moment) == offset]
        if not found:
            raise InvalidInput(
                gettext_noop("%(time)s%(offset)s does not exist on %(day)s"), time=shown, offset=offset, day=day
            )
    elif len(found) > 1:
        raise InvalidInput(
            gettext_noop(
                "%(time)s happens twice on %(day)s (clocks go back): write %(time)s%(first)s for the first, "
                "%(time)s%(second)s for the second"
            ),
            time=shown,
            day=day,
            first=_offset(found[0]),
            second=_offset(found[1]),
        )
    return found[0]


def clock_text(day: date, moment: datetime) -> str:
    """``moment`` as ``parse_clock`` reads it back: ``HH:MM``, ``24:00`` at the end of ``day``, with the offset on
    the repeated hour."""
    if _utc(moment) == _utc(day_bounds(day)[1]):
        return "24:00"
    local = to_local(moment)
    text = local.strftime("%H:%M")
    if len(_instants(day, local.hour, local.minute)) > 1:
        return text + _offset(local)
    return text


def windows_of(periods: Sequence[Period]) -> list[Window]:
    """The stop windows of a schedule (its periods with a value above 0; consecutive equal ones merged)."""
    found: list[Window] = []
    for p in periods:
        if p.value <= 0:
            continue
        if found and _utc(found[-1].end) == _utc(p.start) and found[-1].value == p.value:
            found[-1] = Window(found[-1].start, p.end, p.value)
        else:
            found.append(Window(p.start, p.end, float(p.value)))
    return found


def schedule_of(day: date, windows: Sequence[Window], *, allow_fractions: bool = False) -> tuple[Period, ...]:
    """``day``'s full schedule with these stop windows (numbered from 1 in refusals, as given) and no stop
    elsewhere. InvalidInput when a window ends before it starts, lies outside the day, is off the 5-minute grid,
    has a value not allowed, or overlaps another; touching windows of one value merge."""
    if len(windows) > MAX_WINDOWS:
        raise InvalidInput(gettext_noop("at most %(count)s windows in a day"), count=MAX_WINDOWS)
    day_start, day_end = (_utc(m) for m in day_bounds(day))
    for n, w in enumerate(windows, start=1):
        start, end = _utc(w.start), _utc(w.end)
        if end <= start:
            raise InvalidInput(
                gettext_noop("window %(n)s: its end %(end)s is not after its start %(start)s"),
                n=n,
                start=w.start,
                end=w.end,
            )
        if start < day_start or end > day_end:
            raise InvalidInput(gettext_noop("window %(n)s is outside the delivery day %(day)s"), n=n, day=day)
        if (start - day_start) % STEP_5 or (end - day_start) % STEP_5:
            raise InvalidInput(gettext_noop("window %(n)s is not on the 5-minute grid"), n=n)
        if isinstance(w.value, bool) or not (0 < w.value <= 1) or (w.value != 1 and not allow_fractions):
            raise InvalidInput(
                gettext_noop(
                    "window %(n)s: value %(value)s is not allowed (1 = stop; a fraction only for offshore wind)"
                ),
                n=n,
                value=w.value,
            )
    ordered = sorted(enumerate(windows, start=1), key=lambda item: item[1].key())
    for (a, first), (b, second) in itertools.pairwise(ordered):
        if first.overlaps(second):
            raise InvalidInput(
                gettext_noop("windows %(a)s and %(b)s overlap from %(start)s to %(end)s"),
                a=min(a, b),
                b=max(a, b),
                start=to_local(second.start),
                end=to_local(min(first.end, second.end, key=_utc)),
            )
    periods: list[Period] = []
    cursor = day_start
    for _, w in ordered:
        start, end = _utc(w.start), _utc(w.end)
        if start > cursor:
            periods.append(Period(_fixed(cursor), _fixed(start), 0.0))
        if periods and periods[-1].value == w.value and _utc(periods[-1].end) == start:
            periods[-1] = Period(periods[-1].start, _fixed(end), float(w.value))
        else:
            periods.append(Period(_fixed(start), _fixed(end), float(w.value)))
        cursor = end
    if cursor < day_end:
        periods.append(Period(_fixed(cursor), _fixed(day_end), 0.0))
    validate_periods(day, periods, allow_fractions=allow_fractions)
    return tuple(periods)


@dataclass(frozen=True, slots=True)
class WindowChange:
    """One difference between two versions' windows: ``added`` (``after`` only), ``removed`` (``before`` only) or
    ``moved`` (``before`` became ``after``: other times, or another value)."""

    kind: str
    before: Window | None
    after: Window | None

    @property
    def start(self) -> datetime:
        return min(_utc(w.start) for w in (self.before, self.after) if w is not None)


def window_changes(before: Sequence[Window], after: Sequence[Window]) -> list[WindowChange]:
    """What changed from ``before`` to ``after``, in time order. Identical windows are left out; a new window
    overlapping an old one (or the only new one left facing the only old one left) is that window moved."""
    kept = {w.key() for w in before} & {w.key() for w in after}
    old = [w for w in before if w.key() not in kept]
    new = [w for w in after if w.key() not in kept]
    changes: list[WindowChange] = []
    for w in list(new):
        match = next((o for o in old if o.overlaps(w)), None)
        if match is not None:
            old.remove(match)
            new.remove(w)
            changes.append(WindowChange("moved", match, w))
    if len(old) == 1 and len(new) == 1:
        changes.append(WindowChange("moved", old.pop(), new.pop()))
    changes += [WindowChange("removed", w, None) for w in old] + [WindowChange("added", None, w) for w in new]
    return sorted(changes, key=lambda c: c.start)


__all__ = ["Window", "WindowChange", "clock_text", "parse_clock", "schedule_of", "window_changes", "windows_of"]
