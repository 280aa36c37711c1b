"""The account page's "Notifications" section reads its own data (``portal/account/notifications.html``), so
that the account page's view stays as it is."""

from __future__ import annotations

from django import template

from smartoa.notifications.preferences import account_choices
from smartoa.portal.views.notifications import AccountForm, choice_label

register = template.Library()


@register.simple_tag(takes_context=True)
def account_notifications(context) -> dict:
    """The account's notification choices, their form (the refused one if the page shows it again) and the
    reminder in words."""
    choices = account_choices(context["request"].user)
    form = context.get("notification_form") or AccountForm.of(choices)
    return {"form": form, "choices": choices, "reminders": choice_label(choices.reminders)}
