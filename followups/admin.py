from django.contrib import admin

from followups.models import WorkingDayOverride


@admin.register(WorkingDayOverride)
class WorkingDayOverrideAdmin(admin.ModelAdmin):
    list_display = ["day", "is_working_day", "reason", "entered_by", "entered_at"]
    list_filter = ["is_working_day"]
    date_hierarchy = "day"
    search_fields = ["reason"]
    readonly_fields = ["entered_by", "entered_at"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.entered_by = request.user
        super().save_model(request, obj, form, change)
