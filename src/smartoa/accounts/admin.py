from django.contrib import admin

from smartoa.accounts.models import Role, User


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("email", "full_name", "is_staff", "is_active", "must_change_password", "date_joined")
    search_fields = ("email", "full_name")
    exclude = ("password", "user_permissions")
    inlines = [RoleInline]
