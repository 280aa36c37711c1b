from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from smartoa.core.admin import ReadOnlyAdmin
from smartoa.core.links import curve_link
from smartoa.metering.models import CurveHistory, CurveImport, CurveMonth


@admin.register(CurveImport)
class CurveImportAdmin(ReadOnlyAdmin):
    """Imports are made by the upload page and ``smartoa curves import`` (same service)."""

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
    change_list_template = "backoffice/admin/curveimport_changelist.html"


class CurveArrayAdmin(ReadOnlyAdmin):
    """Read-only: curves change only through imports."""

    list_filter = ("kind",)
    search_fields = ("contract__contract_id",)
    date_hierarchy = "month"
    exclude = ("values",)

    @admin.display(description=_("graphique"))
    def chart(self, obj):
        return curve_link(obj.contract.contract_id, obj.month, _("voir"))


@admin.register(CurveMonth)
class CurveMonthAdmin(CurveArrayAdmin):
    list_display = ("contract", "kind", "month", "revision", "steps", "present", "curve_import", "chart")
    list_select_related = ("contract", "curve_import")


@admin.register(CurveHistory)
class CurveHistoryAdmin(CurveArrayAdmin):
    list_display = ("contract", "kind", "month", "revision", "present", "curve_import", "replaced_by")
    list_select_related = ("contract", "curve_import", "replaced_by")
