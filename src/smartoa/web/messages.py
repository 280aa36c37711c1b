"""User errors as the pages show them: the message template translated into the user's language, then filled
with its parameters (the French catalogue translates the English templates of ``domain/errors.py`` users)."""

from __future__ import annotations

from smartoa.core.formats import error_text
from smartoa.domain.errors import UserError


def user_message(error: UserError) -> str:
    """The error's message in the language of the request."""
    return error_text(error)
