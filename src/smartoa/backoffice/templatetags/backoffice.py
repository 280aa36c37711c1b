"""Template tags of the back office: a table cell shown according to its column, acknowledgment states as
badges, and the page links that keep the filters."""

from __future__ import annotations

import json
from datetime import timedelta

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from smartoa.accounts.roles import role_of
from smartoa.audit.labels import label as code_label
from smartoa.consignes.models import Acknowledgment
from smartoa.contracts.models import Contract
from smartoa.core.templatetags.smartoa_time import paris_date, paris_time
from smartoa.domain.acknowledgment import Status

register = template.Library()

BADGE_CLASS = {
    Status.MISSED: "missed",
    Status.VOIDED: "voided",
    Status.TO_DO: "todo",
    Status.NOT_PUBLISHED: "muted",
    Status.DONE: "done",
}


@register.filter
def status_label(status) -> str:
    """A day's acknowledgment state in the operator's words."""
    labels = {
        Status.MISSED: _("Non acquiescée, HLAR passée"),
        Status.VOIDED: _("À acquiescer de nouveau (modifiée)"),
        Status.TO_DO: _("À acquiescer"),
        Status.NOT_PUBLISHED: _("Non publiée"),
        Status.DONE: _("Acquiescée"),
    }
    return labels.get(Status(status), str(status))


@register.filter
def status_badge(status) -> SafeString:
    return format_html('<span class="badge {}">{}</span>', BADGE_CLASS[Status(status)], status_label(status))


@register.simple_tag
def cell(row: dict, column) -> SafeString | str:
    """The value of ``column`` in ``row``, as the page shows it (``tables.Column.show``)."""
    value = row.get(column.key)
    if value is None or value in ("", ()):
        return format_html('<span class="muted">{}</span>', "—")
    if column.show == "datetime":  # the column's label says "heure de Paris"
        return f"{paris_date(value)} {paris_time(value)}"
    if column.show == "state":
        return status_badge(value)
    if column.show == "contract":
        return format_html('<a href="{}">{}</a>', reverse("backoffice:contract", args=[value]), value)
    if column.show == "lines":
        return format_html_join(mark_safe("<br>"), "{}", ((item,) for item in value))  # a literal  # nosec B308
    if column.show == "action":  # an audit action or an outbox event: its words, and its code for filters
        return format_html('{} <code class="code">{}</code>', code_label(value), value)
    if column.show == "channel":
        return channel_label(value)
    if column.show == "json":
        return format_html("<code>{}</code>", json.dumps(value, ensure_ascii=False, sort_keys=True))
    return str(value)


@register.filter
def channel_label(code: str) -> str:
    """An acknowledgment's channel in words: "Portail", "API"."""
    return str(Acknowledgment.Channel(code).label)


@register.filter
def event_label(code: str) -> str:
    """An audit action or an outbox event in words (``audit/labels.py``)."""
    return code_label(code)


@register.simple_tag
def page_url(query: str, number: int) -> str:
    """``?<query>&page=<number>`` (``query``: the filters, from ``tables.query_without``)."""
    return f"?{query}&page={number}" if query else f"?page={number}"


@register.filter
def field_labels(names) -> str:
    """Contract fields by their French names ("puissance installée, unité")."""
    return ", ".join(str(Contract._meta.get_field(name).verbose_name) for name in names)


@register.filter
def every(period: timedelta) -> str:
    """A job's period in words: "toutes les 5 min", "toutes les heures", "tous les jours"."""
    minutes = int(period.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return _("tous les jours") if days == 1 else _("tous les %(n)s jours") % {"n": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return _("toutes les heures") if hours == 1 else _("toutes les %(n)s h") % {"n": hours}
    return _("toutes les minutes") if minutes == 1 else _("toutes les %(n)s min") % {"n": minutes}


@register.filter
def any_late(jobs) -> bool:
    return any(job.late for job in jobs)


@register.filter
def operator_role(user) -> str:
    """The label of ``user``'s operator role (``accounts/roles.py``), or "" without one: the header shows it."""
    role = role_of(user)
    return str(role.label) if role else ""
