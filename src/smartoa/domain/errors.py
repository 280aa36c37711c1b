"""User errors: refusals a person or a machine can act on. Pure: no Django.

Every refusal the platform answers to bad input is a ``UserError`` with a stable ``code`` (the API's ``error``
field, the key a page translates) and the ``params`` of its message. Each edge maps them once:

- the command line (``core/management/base.py``): the message on standard error, exit status 1;
- the API (``api/errors.py``): ``{"error": code, "message": text}`` with the HTTP status of the code;
- the portal and back office: the message translated from its template (``message_template % params``).

Anything else raised is a bug: it is logged with its traceback and answered as a server error, never
disguised as bad input.
"""

from __future__ import annotations

from collections.abc import Callable


def gettext_noop(message: str) -> str:
    """Mark an English message template for the translation catalogues (xgettext finds calls by this name) and
    return it unchanged: the edges translate it (``domain/`` imports no Django)."""
    return message


class UserError(Exception):
    """A refusal with a stable ``code``; ``message_template`` is English text with ``%(name)s`` placeholders
    filled from ``params`` (kept apart so that an edge can translate the template)."""

    code = "invalid_input"

    def __init__(self, message_template: str, **params: object):
        self.message_template = message_template
        self.params = params
        super().__init__(message_template % params if params else message_template)

    @property
    def message(self) -> str:
        return str(self)

    def translated(self, translate: Callable[[str], str]) -> str:
        """The message in another language: the template through ``translate`` (an edge's gettext), then filled."""
        template = translate(self.message_template)
        return template % self.params if self.params else template


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
