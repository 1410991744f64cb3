from django.contrib import admin

from reports.models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Reports are computed and reviewed in their pages; here they are only read."""

    list_display = ["kind", "period_start", "period_end", "state", "generated_at", "approved_by"]
    list_filter = ["kind", "state"]
    date_hierarchy = "period_start"
    readonly_fields = [field.name for field in Report._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
