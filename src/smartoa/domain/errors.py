"""User errors: refusals a person or a machine can act on. Pure: no Django.

Every refusal the platform answers to bad input is a ``UserError`` with a stable ``code`` (the API's ``error``
field, the key a page translates) and the ``params`` of its message. Each edge maps them once:

- the command line (``core/management/base.py``): the message on standard error, exit status 1;
- the API (``api/errors.py``): ``{"error": code, "message": text}`` with the HTTP status of the code;
- the portal and back office: the message translated from its template (``message_template % params``).

A message is always a literal English template marked ``gettext_noop`` (never an f-string or text built by
concatenation or ``.join``: ``tests/core/test_translations.py`` reads the code and fails for one). A refusal of a
whole file is a header error whose parameter is the list of its located problems (``line %(line)s: %(problem)s``,
each a UserError), cut by ``at_most``: machines read one problem per line in English, people in their language.

Anything else raised is a bug: it is logged with its traceback and answered as a server error, never
disguised as bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

_PARIS = ZoneInfo("Europe/Paris")  # (calendar.PARIS: the calendar imports this module)


def gettext_noop(message: str) -> str:
    """Mark an English message template for the translation catalogues (xgettext finds calls by this name) and
    return it unchanged: the edges translate it (``domain/`` imports no Django)."""
    return message


class UserError(Exception):
    """A refusal with a stable ``code``; ``message_template`` is English text with ``%(name)s`` placeholders
    filled from ``params`` (kept apart so that an edge can translate the template).

    A parameter may be a date or date-time (each edge shows it its way: ISO 8601 for machines, ``05/12/2026 à
    19:52`` for people), another UserError (translated with this one: "line 3: <its message>"), or a list of
    UserErrors (one per line): that is how a refusal of a whole file names each of its problems, every piece
    translatable."""

    code = "invalid_input"

    def __init__(self, message_template: str, **params: object):
        self.message_template = message_template
        self.params = params
        super().__init__(self.translated(_same, _machine))

    @property
    def message(self) -> str:
        return str(self)

    def translated(self, translate: Callable[[str], str], show: Callable[[object], object] | None = None) -> str:
        """The message in another language: the template through ``translate`` (an edge's gettext), then filled
        with the parameters, each through ``show`` (how that edge writes dates and numbers; default ISO)."""
        template = translate(self.message_template)
        if not self.params:
            return template
        show = show or _machine
        return template % {name: _filled(value, translate, show) for name, value in self.params.items()}


def _same(text: str) -> str:
    return text


def _machine(value: object) -> object:
    """A parameter as machines read it: dates in ISO 8601, date-times too, in Paris time with their offset, as the
    API writes them (``2025-09-22T11:55:00+02:00``); decimals without trailing zeros."""
    if isinstance(value, datetime):
        return value.astimezone(_PARIS).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"  # 10.000 → 10, 14.500 → 14.5 (never 1E+1)
    return value


def _filled(value: object, translate: Callable[[str], str], show: Callable[[object], object]) -> object:
    if isinstance(value, UserError):
        return value.translated(translate, show)
    if isinstance(value, list | tuple) and value and all(isinstance(item, UserError) for item in value):
        return "\n".join(item.translated(translate, show) for item in value)
    return show(value)


def at_most(problems: Sequence[UserError], limit: int) -> list[UserError]:
    """The first ``limit`` problems of a refusal, then "… and N more" when some are left out: the list a whole
    file's refusal names (a parameter rendered one problem per line, each translated)."""
    if len(problems) <= limit:
        return list(problems)
    return [*problems[:limit], more(len(problems) - limit)]


def more(count: int) -> UserError:
    """The last line of a list of problems cut short: "… and N more"."""
    return UserError(gettext_noop("… and %(count)s more"), count=count)


class InvalidInput(UserError, ValueError):
    """Input that cannot be accepted as given (malformed, out of range, inconsistent)."""

    code = "invalid_input"


class NotFound(UserError):
    """What the input names does not exist (or is not visible to the caller)."""

    code = "not_found"


class Conflict(UserError):
    """The input is well formed but the current state refuses it."""

    code = "conflict"


class DeadlinePassed(Conflict):
    code = "deadline_passed"


class StaleVersion(Conflict):
    code = "stale_version"
