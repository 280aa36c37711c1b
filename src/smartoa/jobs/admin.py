"""Job runs in the admin: read-only for everyone (the record of what the worker did)."""

from django.contrib import admin

from smartoa.core.admin import ReadOnlyAdmin
from smartoa.jobs.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ("name", "started_at", "finished_at", "outcome", "counts")
    list_filter = ("outcome", "name")
    date_hierarchy = "started_at"
