"""Template filters for times: in Paris time, and the time left before a deadline (on the platform's clock).
Used by every page (``{% load smartoa_time %}``)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.translation import gettext as _

from smartoa.core.clock import now
from smartoa.domain.calendar import to_local

register = template.Library()


@register.filter
def paris(moment: datetime | None) -> str:
    """A date and time in Paris time: "21/09/2025 16:30 (heure de Paris)"."""
    if moment is None:
        return ""
    local = to_local(moment)
    return _("%(date)s à %(time)s (heure de Paris)") % {
        "date": local.strftime("%d/%m/%Y"),
        "time": local.strftime("%H:%M"),
    }


@register.filter
def paris_date(moment: datetime | None) -> str:
    return to_local(moment).strftime("%d/%m/%Y") if moment else ""


@register.filter
def paris_time(moment: datetime | None) -> str:
    return to_local(moment).strftime("%H:%M") if moment else ""


@register.filter
def time_left(deadline: datetime | None) -> str:
    """What remains before ``deadline`` on the platform's clock: "3 h 20 min", "12 min", "moins d'une minute"."""
    if deadline is None:
        return ""
    seconds = int((deadline - now()).total_seconds())
    if seconds <= 0:
        return _("délai dépassé")
    hours, minutes = divmod(seconds // 60, 60)
    if hours >= 48:
        return _("%(days)s jours") % {"days": hours // 24}
    if hours:
        return _("%(h)s h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)s min") % {"m": minutes} if minutes else _("moins d'une minute")
