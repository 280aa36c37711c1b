"""The audit log in the admin: read-only for everyone (events can never be changed or deleted)."""

from django.contrib import admin

from smartoa.audit.models import AuditEvent
from smartoa.core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "actor", "contract", "user", "ip")
    list_filter = ("action",)
    search_fields = ("actor", "contract__contract_id", "user__email")
    list_select_related = ("contract", "user")
    date_hierarchy = "at"
