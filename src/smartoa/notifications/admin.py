"""The outbox and the webhooks in the admin: read-only for everyone. A webhook's secret and an e-mail's context
(which holds a provisional password until it is delivered) are never shown; webhooks are set and removed through
``smartoa webhooks`` or the portal (same service, same audit). The accounts' notification choices and the
contracts' extra addresses are set in the portal (``notifications/preferences.py``); a confirmation link's hash
is never shown."""

from django.contrib import admin

from smartoa.core.admin import ReadOnlyAdmin
from smartoa.notifications.models import (
    AccountPreference,
    ContractReminderChoice,
    ExtraAddress,
    OutboxMessage,
    Webhook,
)


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    list_display = ("contract", "url", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("contract__contract_id", "url")
    list_select_related = ("contract",)
    fields = ("contract", "url", "active", "created_at", "updated_at")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "event", "recipient", "contract", "status", "attempts", "last_error")
    list_filter = ("status", "kind", "event")
    search_fields = ("recipient", "contract__contract_id", "delivery_id")
    list_select_related = ("contract",)
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "event",
        "recipient",
        "contract",
        "template",
        "language",
        "delivery_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "delivered_at",
    )


@admin.register(AccountPreference)
class AccountPreferenceAdmin(ReadOnlyAdmin):
    list_display = ("user", "publications", "reminders", "reminder_minutes", "updated_at")
    list_filter = ("publications", "reminders")
    search_fields = ("user__email",)
    list_select_related = ("user",)


@admin.register(ContractReminderChoice)
class ContractReminderChoiceAdmin(ReadOnlyAdmin):
    list_display = ("contract", "user", "reminders", "reminder_minutes", "updated_at")
    list_filter = ("reminders",)
    search_fields = ("contract__contract_id", "user__email")
    list_select_related = ("contract", "user")


@admin.register(ExtraAddress)
class ExtraAddressAdmin(ReadOnlyAdmin):
    list_display = ("contract", "email", "confirmed_at", "reminders", "reminder_minutes", "added_by", "added_at")
    search_fields = ("contract__contract_id", "email")
    list_select_related = ("contract",)
    fields = (
        "contract",
        "email",
        "language",
        "reminders",
        "reminder_minutes",
        "added_by",
        "added_at",
        "confirmed_at",
        "link_sent_at",
        "link_expires_at",
    )
