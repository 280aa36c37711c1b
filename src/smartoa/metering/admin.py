from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from smartoa.metering.models import CurveDay, CurveImport


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


@admin.register(CurveDay)
class CurveDayAdmin(admin.ModelAdmin):
    list_display = ("contract", "kind", "day", "revision", "current", "steps", "present", "curve_import", "chart")
    list_filter = ("kind", "current")
    search_fields = ("contract__contract_id",)
    date_hierarchy = "day"
    list_select_related = ("contract", "curve_import")
    exclude = ("values",)
    readonly_fields = ("contract", "kind", "day", "revision", "current", "curve_import", "steps", "present")

    @admin.display(description=_("graphique"))
    def chart(self, obj):
        url = reverse("backoffice:contract-curve", args=[obj.contract.contract_id])
        return format_html('<a href="{}?day={}">{}</a>', url, obj.day.isoformat(), _("voir"))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
