from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from smartoa.billing.models import CompensationInput, ComplianceRun, ContractCurves, ContractMonth, EpisodeResult
from smartoa.core.clock import now
from smartoa.domain.calendar import local_day_of


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ContractCurves)
class ContractCurvesAdmin(ReadOnlyAdmin):
    """Entry point from the admin to each contract's curve and compliance page."""

    list_display = ("contract_id", "name", "sector", "installed_power", "month_link", "upload_link")
    search_fields = ("contract_id", "name", "network_id")
    list_filter = ("sector",)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    @admin.display(description=_("courbe et conformité"))
    def month_link(self, obj):
        url = reverse("backoffice:contract-curve", args=[obj.contract_id])
        return format_html('<a href="{}?month={}">{}</a>', url, f"{local_day_of(now()):%Y-%m}", _("voir le mois"))

    @admin.display(description=_("import"))
    def upload_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("backoffice:curve-upload"), _("importer des courbes"))


@admin.register(ComplianceRun)
class ComplianceRunAdmin(ReadOnlyAdmin):
    list_display = (
        "month",
        "started_at",
        "finished_at",
        "actor",
        "contracts",
        "episodes",
        "tolerance_kwh",
        "tolerance_percent",
    )
    date_hierarchy = "month"


@admin.register(ContractMonth)
class ContractMonthAdmin(ReadOnlyAdmin):
    list_display = (
        "contract",
        "month",
        "episodes",
        "checked_steps",
        "breach_steps",
        "missing_steps",
        "energy_during_stop_kwh",
        "chart",
    )
    list_filter = ("month",)
    search_fields = ("contract__contract_id",)
    list_select_related = ("contract",)

    @admin.display(description=_("graphique"))
    def chart(self, obj):
        url = reverse("backoffice:contract-curve", args=[obj.contract.contract_id])
        return format_html('<a href="{}?month={}">{}</a>', url, f"{obj.month:%Y-%m}", _("voir"))


@admin.register(EpisodeResult)
class EpisodeResultAdmin(ReadOnlyAdmin):
    list_display = (
        "contract",
        "start",
        "end",
        "checked_steps",
        "breach_steps",
        "missing_steps",
        "energy_during_stop_kwh",
    )
    list_filter = ("month",)
    search_fields = ("contract__contract_id",)
    list_select_related = ("contract",)


@admin.register(CompensationInput)
class CompensationInputAdmin(admin.ModelAdmin):
    list_display = ("contract", "month", "rule", "price_eur_per_mwh", "producible_import", "recorded_at", "recorded_by")
    search_fields = ("contract__contract_id",)
    raw_id_fields = ("contract", "producible_import")
    readonly_fields = ("recorded_at", "recorded_by")

    def save_model(self, request, obj, form, change):
        from smartoa.core.clock import now

        obj.recorded_at = now()
        obj.recorded_by = getattr(request.user, "email", "") or request.user.get_username()
        super().save_model(request, obj, form, change)
