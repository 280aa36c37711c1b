from django.contrib import admin

from smartoa.consignes.models import Acknowledgment, Consigne, ConsigneVersion, HlarOverride


class VersionInline(admin.TabularInline):
    model = ConsigneVersion
    fields = ("number", "created_at", "created_by", "reason", "has_stop")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Consigne)
class ConsigneAdmin(admin.ModelAdmin):
    list_display = ("contract", "delivery_day")
    list_filter = ("delivery_day",)
    search_fields = ("contract__contract_id",)
    inlines = [VersionInline]


@admin.register(Acknowledgment)
class AcknowledgmentAdmin(admin.ModelAdmin):
    list_display = ("consigne", "version", "acknowledged_at", "channel", "actor", "ip")
    readonly_fields = [f.name for f in Acknowledgment._meta.fields]


admin.site.register(HlarOverride)
