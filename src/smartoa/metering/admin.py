from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from smartoa.metering.models import CurveHistory, CurveImport, CurveMonth


@admin.register(CurveImport)
class CurveImportAdmin(admin.ModelAdmin):
    list_display = (
        "received_at",
        "kind",
        "source",
        "actor",
        "rows",
        "contract_days",
        "revised_days",
        "first_day",
        "last_day",
    )
    list_filter = ("kind",)
    search_fields = ("source", "sha256")
    readonly_fields = [f.name for f in CurveImport._meta.fields]
    change_list_template = "backoffice/admin/curveimport_changelist.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CurveArrayAdmin(admin.ModelAdmin):
    """Read-only: curves change only through imports."""

    list_filter = ("kind",)
    search_fields = ("contract__contract_id",)
    date_hierarchy = "month"
    exclude = ("values",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "values"]

    @admin.display(description=_("graphique"))
    def chart(self, obj):
        url = reverse("backoffice:contract-curve", args=[obj.contract.contract_id])
        return format_html('<a href="{}?month={}">{}</a>', url, f"{obj.month:%Y-%m}", _("voir"))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CurveMonth)
class CurveMonthAdmin(CurveArrayAdmin):
    list_display = ("contract", "kind", "month", "revision", "steps", "present", "curve_import", "chart")
    list_select_related = ("contract", "curve_import")


@admin.register(CurveHistory)
class CurveHistoryAdmin(CurveArrayAdmin):
    list_display = ("contract", "kind", "month", "revision", "present", "curve_import", "replaced_by")
    list_select_related = ("contract", "curve_import", "replaced_by")
