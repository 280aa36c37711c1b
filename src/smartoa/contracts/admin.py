from django.contrib import admin

from smartoa.contracts.models import AllowedIP, ApiToken, Contract, EligibilityRule


class AllowedIPInline(admin.TabularInline):
    model = AllowedIP
    extra = 0


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ("contract_id", "name", "sector", "installed_power", "power_unit", "network_id", "active")
    list_filter = ("sector", "active")
    search_fields = ("contract_id", "name", "network_id")
    inlines = [AllowedIPInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("contract", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = [f.name for f in ApiToken._meta.fields]
    search_fields = ("contract__contract_id", "prefix")

    def has_add_permission(self, request):
        return False


@admin.register(EligibilityRule)
class EligibilityRuleAdmin(admin.ModelAdmin):
    list_display = ("sector", "min_power_mw", "effective_from", "source")
