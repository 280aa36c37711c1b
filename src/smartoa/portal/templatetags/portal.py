"""Template filters of the portal: the acknowledgment state badge."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from smartoa.core.templatetags.smartoa_time import paris
from smartoa.domain.acknowledgment import Status

register = template.Library()


@register.filter
def state_badge(state) -> SafeString:
    """A day's acknowledgment state (``DayAcknowledgment``) as an unmistakable badge, with who and when."""
    if state is None:
        return format_html("")
    version = state.version
    if state.status == Status.NOT_PUBLISHED:
        return format_html('<span class="badge muted">{}</span>', _("Pas encore publiée"))
    if state.status == Status.TO_DO:
        return format_html('<span class="badge todo">{}</span>', _("À acquiescer (version %(v)s)") % {"v": version})
    if state.status == Status.VOIDED:
        text = _(
            "Acquiescement annulé par une modification : la version %(old)s était acquiescée, la version %(v)s "
            "est à acquiescer"
        ) % {"old": state.acknowledged_version, "v": version}
        return format_html('<span class="badge voided">{}</span>', text)
    if state.status == Status.MISSED:
        text = _("Non acquiescée — verrouillée depuis l'HLAR (version %(v)s)") % {"v": version}
        return format_html('<span class="badge missed">{}</span>', text)
    who = _("par %(by)s, le %(at)s") % {"by": state.acknowledged_by, "at": paris(state.acknowledged_at)}
    locked = format_html(' <span class="badge locked">{}</span>', _("verrouillée")) if state.locked else ""
    return format_html(
        '<span class="badge done">{}</span>{} <span class="who">{}</span>',
        _("Acquiescée — version %(v)s") % {"v": version},
        locked,
        who,
    )
