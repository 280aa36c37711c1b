"""Text that users give: contract ids and free text, checked to what the columns hold. Pure.

Both databases must accept or refuse the same input: PostgreSQL refuses NUL characters and over-long values
where SQLite stores them, so every edge checks text here before it reaches a column.
"""

from __future__ import annotations

import re

from smartoa.domain.errors import InvalidInput
from smartoa.domain.errors import gettext_noop as _

CONTRACT_ID_PATTERN = r"^[A-Z0-9]{3,32}\Z"
_CONTRACT_ID = re.compile(CONTRACT_ID_PATTERN)
# C0 controls other than tab, line feed and carriage return, and DEL: never meaningful in a name or a reason.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(value: str, *, field: str, max_length: int, required: bool = False, multiline: bool = False) -> str:
    """``value`` stripped, or InvalidInput naming ``field`` when it is too long, holds a NUL or another control
    character (line breaks only when ``multiline``), or is empty while ``required``."""
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be text"), field=field)
    text = value.strip()
    if _CONTROL.search(text) or (not multiline and ("\n" in text or "\r" in text)):
        raise InvalidInput(_("%(field)s holds a control character"), field=field)
    if len(text) > max_length:
        raise InvalidInput(
            _("%(field)s is %(length)s characters long; at most %(max_length)s"),
            field=field,
            length=len(text),
            max_length=max_length,
        )
    if required and not text:
        raise InvalidInput(_("%(field)s is empty"), field=field)
    return text


def is_contract_id(value: object) -> bool:
    """True for a buyer's contract id: 3 to 32 upper-case letters and digits (``BOAXXXXX``)."""
    return isinstance(value, str) and _CONTRACT_ID.match(value) is not None
