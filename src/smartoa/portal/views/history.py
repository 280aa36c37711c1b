"""A contract's history, a month at a glance: each day's consigne, versions, acknowledgment and (once computed)
compliance, and the month's statement summarised beside its downloads. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views import View

from smartoa.billing.queries import DayCompliance, MonthCompliance, month_compliance
from smartoa.consignes.queries import PublishedDay, first_published_day, published_days
from smartoa.core.clock import now
from smartoa.domain.acknowledgment import Status
from smartoa.domain.calendar import day_bounds, day_length, local_day_of
from smartoa.domain.curves import month_days, month_of, next_month, parse_month
from smartoa.domain.errors import UserError
from smartoa.exports.writers import FORMATS
from smartoa.portal.access import contract_for
from smartoa.web.timeline import summary

FORMAT_NAMES = {"json": "JSON", "csv": "CSV", "xlsx": "Excel"}


@dataclass(frozen=True)
class HistoryDay:
    """One line of the month: the day, what was published and acknowledged, and the compliance result."""

    day: date
    hours: int  # 23, 24 or 25: the local day's length
    published: PublishedDay | None
    consigne: str  # the current schedule in words
    compliance: DayCompliance | None  # the day's checked steps, when the run checked some
    outcome: (
        str | None
    )  # compliant, breach, missing, no_stop, not_checked, early, other_version, unchecked; None: no run
    checked_version: int | None  # the version the run checked, when it is not the current one
    today: bool


@dataclass(frozen=True)
class NoConsigne:
    """Consecutive days of the month without a consigne, shown as one line."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def outcome_of(
    published: PublishedDay | None, result: MonthCompliance | None, day: date
) -> tuple[str | None, int | None]:
    """The day's compliance in a word (a code the template puts in words), and the version the run checked when
    it is not the current one."""
    if result is None or published is None:
        return None, None
    checked_version = result.versions.get(day)
    if checked_version is None:
        return "unchecked", None  # published after the run
    other = checked_version if checked_version != published.version else None
    if result.run.started_at < day_bounds(day)[1]:
        return "early", other  # computed before the day was over: its curve could not be complete
    if other is not None:
        return "other_version", other
    figures = result.days.get(day)
    if figures is None:
        return ("not_checked" if published.has_stop else "no_stop"), None
    if figures.breach:
        return "breach", None
    if figures.missing:
        return "missing", None
    return "compliant", None


def month_lines(
    first: date, last: date, published: dict[date, PublishedDay], result: MonthCompliance | None, today: date
) -> list[HistoryDay | NoConsigne]:
    """The lines of the days ``first``…``last``: one per published day (and today), one per run of days without
    a consigne."""
    lines: list[HistoryDay | NoConsigne] = []
    day = first
    while day <= last:
        p = published.get(day)
        if p is None and day != today:
            previous = lines[-1] if lines else None
            if isinstance(previous, NoConsigne) and previous.last == day - timedelta(days=1):
                lines[-1] = NoConsigne(previous.first, day)
            else:
                lines.append(NoConsigne(day, day))
        else:
            outcome, checked_version = outcome_of(p, result, day)
            lines.append(
                HistoryDay(
                    day=day,
                    hours=int(day_length(day).total_seconds() // 3600),
                    published=p,
                    consigne=summary(p.periods if p else None),
                    compliance=result.days.get(day) if result else None,
                    outcome=outcome,
                    checked_version=checked_version,
                    today=day == today,
                )
            )
        day += timedelta(days=1)
    return lines


def month_or_404(text: str) -> date:
    try:
        return parse_month(text)
    except UserError:
        raise Http404("no such month") from None


def month_name(month: date) -> str:
    """« mars 2026 », "March 2026"."""
    return date_format(month, "F Y")


class HistoryView(View):
    """``/contrats/<id>/historique/`` (the current month) and ``…/historique/<YYYY-MM>/``. A month after
    tomorrow's or before the contract's first consigne leads to the nearest month shown, saying so; a malformed
    month is not found."""

    def get(self, request, contract_id, month=None):
        holding = contract_for(request.user, contract_id)
        contract = holding.contract
        if month is None and request.GET.get("mois"):  # the month picker (a form without JavaScript)
            return redirect("portal:history-month", contract.contract_id, f"{month_or_404(request.GET['mois']):%Y-%m}")
        today = local_day_of(now())
        latest = month_of(today + timedelta(days=1))
        first_day = first_published_day(contract.pk)
        earliest = min(month_of(first_day), month_of(today)) if first_day else month_of(today)
        shown = month_of(today) if month is None else month_or_404(month)
        if not earliest <= shown <= latest:
            nearest = latest if shown > latest else earliest
            messages.info(
                request,
                _("Pas d'historique pour %(asked)s : voici %(shown)s.")
                % {"asked": month_name(shown), "shown": month_name(nearest)},
            )
            return redirect("portal:history-month", contract.contract_id, f"{nearest:%Y-%m}")

        days = month_days(shown)
        published = published_days(contract.pk, days[0], days[-1])
        run, result = month_compliance(contract.pk, shown)
        # Days after tomorrow have no consigne yet (unless one was published ahead): the list stops there.
        last_shown = max([min(days[-1], today + timedelta(days=1)), *published])
        lines = month_lines(days[0], last_shown, published, result, today)
        states = [p.state.status for p in published.values()]
        months, cursor = [], latest
        while cursor >= earliest:
            months.append((f"{cursor:%Y-%m}", month_name(cursor)))
            cursor = month_of(cursor - timedelta(days=1))
        month_text = f"{shown:%Y-%m}"
        previous = month_of(shown - timedelta(days=1)) if shown > earliest else None
        following = next_month(shown) if shown < latest else None
        context = {
            "holding": holding,
            "contract": contract,
            "tab": "history",
            "month": shown,
            "month_text": month_text,
            "month_name": month_name(shown),
            "previous": previous,
            "previous_name": month_name(previous) if previous else "",
            "next": following,
            "next_name": month_name(following) if following else "",
            "months": months,
            "lines": lines,
            "more_days": last_shown < days[-1],
            "published": len(published),
            "acknowledged": states.count(Status.DONE),
            "missed": states.count(Status.MISSED),
            "open": states.count(Status.TO_DO) + states.count(Status.VOIDED),
            "not_acknowledged": [p.day for p in published.values() if p.state.status != Status.DONE],
            "run": run,
            "result": result,
            "downloads": [(FORMAT_NAMES.get(fmt, fmt.upper()), fmt) for fmt in sorted(FORMATS)] if result else [],
        }
        return render(request, "portal/contract/history.html", context)
