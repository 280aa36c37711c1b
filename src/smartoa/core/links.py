"""Links into the operator pages, for the admin lists of every feature."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString


def curve_link(contract_id: str, month: date, text: str) -> SafeString:
    """A link to the contract's curve and compliance page for ``month``."""
    url = reverse("backoffice:contract-curve", args=[contract_id])
    return format_html('<a href="{}?month={}">{}</a>', url, f"{month:%Y-%m}", text)
