"""The outbox and the webhooks in the admin: read-only for everyone. A webhook's secret and an e-mail's context
(which holds a provisional password until it is delivered) are never shown; webhooks are set and removed through
``smartoa webhooks`` or the portal (same service, same audit)."""

from django.contrib import admin

from smartoa.core.admin import ReadOnlyAdmin
from smartoa.notifications.models import OutboxMessage, Webhook


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
