"""How people read dates, times and numbers, in the language of the request (French first, English available).

French: ``05/12/2026 à 19:52`` (Paris time), ``14,5 MWc``, ``8 928 pas`` (a narrow no-break space between
thousands, a decimal comma). English: ``05/12/2026 at 19:52``, ``14.5 MWc``, ``8,928 steps``. Machines get ISO
8601 and plain numbers instead (the API, the files' code columns, the command line): these functions are for
people only. Every page, e-mail and export for people formats through here (templates through the filters of
``core/templatetags/smartoa_time.py``), so that one place decides what a date looks like.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils import dateformat
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext as _

from smartoa.domain.calendar import to_local
from smartoa.domain.errors import UserError

THIN = "\u202f"  # narrow no-break space: the French thousands separator (and before ; : ! ? in typography)


def _french() -> bool:
    return (get_language() or "fr").startswith("fr")


def day_text(day: date | datetime | None) -> str:
    """``05/12/2026`` (a datetime: its Paris day)."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = to_local(day).date()
    return day.strftime("%d/%m/%Y")


def time_text(moment: datetime | None) -> str:
    """``19:52``, Paris time."""
    return to_local(moment).strftime("%H:%M") if moment is not None else ""


def moment_text(moment: datetime | None) -> str:
    """``05/12/2026 à 19:52`` (Paris time; English: ``05/12/2026 at 19:52``)."""
    if moment is None:
        return ""
    return _("%(date)s à %(time)s") % {"date": day_text(moment), "time": time_text(moment)}


def month_text(month: date) -> str:
    """``novembre 2026`` (English: ``November 2026``)."""
    return dateformat.format(month, "F Y")


def number_text(value: int | float | Decimal | None, decimals: int | None = None) -> str:
    """``8 928``, ``14,5``, ``0,25`` in French; ``8,928``, ``14.5`` in English. ``decimals``: exactly that many
    digits after the separator; None: as many as the value needs (up to 6, trailing zeros dropped)."""
    if value is None:
        return ""
    if decimals is None:
        text = f"{Decimal(str(value)):.6f}".rstrip("0").rstrip(".")
    else:
        text = f"{Decimal(str(value)):.{decimals}f}"
    if text in ("-0", ""):
        text = "0"
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _dot, fraction = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    groups.insert(0, whole)
    thousands, point = (THIN, ",") if _french() else (",", ".")
    return sign + thousands.join(groups) + (point + fraction if fraction else "")


def value_text(value: object) -> str:
    """Any value of a message for people: dates and times as above, numbers with the language's separators,
    anything else as text."""
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, date):
        return day_text(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return number_text(value)
    return str(value)


def error_text(error: UserError, *, sentence: bool = True) -> str:
    """A refusal (``UserError``) for people: its message in the language of the request (a sentence: capital
    first; ``sentence=False`` for a reason quoted inside another sentence), each date, time and number of it written
    as above, each sub-problem (a file's bad lines) on its own line, translated too."""
    text = error.translated(gettext, value_text)
    return text[:1].upper() + text[1:] if sentence else text
