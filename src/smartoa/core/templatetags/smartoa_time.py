"""Template filters for people: dates and times in Paris time (``05/12/2026 à 19:52``), numbers with the
language's separators (``14,5``, ``8 928``), and the time left before a deadline (on the platform's clock). Used
by every page and e-mail (``{% load smartoa_time %}``); the formats themselves live in ``core/formats.py``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from smartoa.core import formats
from smartoa.core.clock import now
from smartoa.domain.errors import UserError

register = template.Library()


@register.filter
def paris(moment: datetime | None) -> str:
    """A date and time in Paris time: ``05/12/2026 à 19:52``."""
    return formats.moment_text(moment)


@register.filter
def paris_date(moment: datetime | date | None) -> str:
    """``05/12/2026`` (the Paris day of a date-time)."""
    return formats.day_text(moment)


@register.filter
def paris_time(moment: datetime | None) -> str:
    """``19:52``, Paris time."""
    return formats.time_text(moment)


@register.filter
def number(value: int | float | Decimal | None, decimals: int | None = None) -> str:
    """``8 928``, ``14,5`` (French), ``8,928``, ``14.5`` (English); ``|number:2`` for exactly two decimals."""
    return formats.number_text(value, decimals)


@register.filter
def reason(error: UserError | None) -> str:
    """A refusal or a reason (``UserError``) in words for people, in the page's language (``formats.error_text``)."""
    return formats.error_text(error, sentence=False) if error is not None else ""


@register.filter
def time_left(deadline: datetime | None) -> str:
    """What remains before ``deadline`` on the platform's clock: "3 h 20 min", "12 min", "moins d'une minute"."""
    if deadline is None:
        return ""
    return duration_text(int((deadline - now()).total_seconds()))


@register.filter
def countdown(deadline: datetime | None) -> str:
    """The whole phrase: "encore 3 h 20 min", "encore moins d'une minute", or "délai dépassé"."""
    if deadline is None:
        return ""
    seconds = int((deadline - now()).total_seconds())
    if seconds <= 0:
        return _("délai dépassé")
    return _("encore %(left)s") % {"left": duration_text(seconds)}


@register.simple_tag
def platform_now() -> str:
    """The platform's clock now, ISO 8601 (a page's scripts count from it, not from the visitor's clock)."""
    return now().isoformat()


def duration_text(seconds: int) -> str:
    """A time left for people: "2 jours", "3 h 20 min", "12 min", "moins d'une minute", "délai dépassé"."""
    if seconds <= 0:
        return _("délai dépassé")
    hours, minutes = divmod(seconds // 60, 60)
    if hours >= 48:
        days = hours // 24
        return ngettext("%(days)s jour", "%(days)s jours", days) % {"days": days}
    if hours:
        return _("%(h)s h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)s min") % {"m": minutes} if minutes else _("moins d'une minute")


@register.simple_tag(takes_context=True)
def hlar(context) -> str:
    """ "HLAR" as a page says it: spelled out the first time in the page ("HLAR (heure limite d'accès au réseau)"),
    the bare acronym (marked as an abbreviation) after. Use ``{% hlar as h %}`` then ``{{ h }}`` in a sentence."""
    request = context.get("request")
    explained = getattr(request, "_hlar_explained", False)
    if request is not None:
        request._hlar_explained = True
    if explained:
        return format_html('<abbr title="{}">HLAR</abbr>', _("heure limite d'accès au réseau"))
    return format_html("{}", _("HLAR (heure limite d'accès au réseau)"))
