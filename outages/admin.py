from django.contrib import admin

from outages.models import Outage, OutageBuilding, OutageChange, PlanStep


class OutageBuildingInline(admin.TabularInline):
    model = OutageBuilding
    extra = 0


class OutageChangeInline(admin.TabularInline):
    model = OutageChange
    extra = 0
    can_delete = False
    readonly_fields = ["action", "revision", "at", "actor", "data", "notified", "notified_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    """Read here; published, changed and restored on the outage pages, which tell customers."""

    list_display = ["title", "kind", "supply", "starts_at", "expected_end_at", "state", "is_late"]
    list_filter = ["kind", "supply", "state", "is_late"]
    search_fields = ["title", "reason"]
    inlines = [OutageBuildingInline, OutageChangeInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PlanStep)
class PlanStepAdmin(admin.ModelAdmin):
    """The emergency plan (应急预案): the steps every incident of a fault type ticks off."""

    list_display = ["text", "fault_type", "order", "is_active"]
    list_filter = ["fault_type", "is_active"]
    list_editable = ["order", "is_active"]
