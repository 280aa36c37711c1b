"""E-mail addresses as the platform keeps them: checked and lower-cased (accounts, extra notification addresses).
Imports nothing that sends mail, so that any feature may check an address."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from smartoa.accounts.models import User
from smartoa.domain.errors import InvalidInput, gettext_noop
from smartoa.domain.text import check_text

MAX_EMAIL = User._meta.get_field("email").max_length or 254


def check_email(email: str) -> str:
    """``email`` lower-cased, or InvalidInput when it is not an e-mail address a column can hold."""
    text = check_text(email, field="e-mail", max_length=MAX_EMAIL, required=True).lower()
    try:
        validate_email(text)
    except ValidationError:
        raise InvalidInput(gettext_noop("%(email)r is not an e-mail address"), email=text) from None
    return text
