from django.contrib import admin

from dispatch.models import (
    Assignment,
    Community,
    Crew,
    CrewMembership,
    Department,
    District,
    OutboundMessage,
    SmsRecord,
    UnclosedPlan,
)


class CommunityInline(admin.TabularInline):
    model = Community
    extra = 0


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active"]
    search_fields = ["code", "name"]
    inlines = [CommunityInline]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "district", "latitude", "longitude"]
    list_filter = ["district"]
    search_fields = ["name"]


class CrewMembershipInline(admin.TabularInline):
    model = CrewMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Crew)
class CrewAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "shift",
        "is_on_duty",
        "max_pipe_diameter",
        "last_position_at",
        "is_active",
    ]
    list_filter = ["is_active", "is_on_duty", "shift", "districts"]
    filter_horizontal = ["districts", "skills"]
    inlines = [CrewMembershipInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "time_limit_hours", "time_limit_working_days", "is_active"]
    filter_horizontal = ["members"]


class _ReadOnly(admin.ModelAdmin):
    """Records written by the services: read here, never edited."""

    show_full_result_count = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(_ReadOnly):
    """The outbox: what went out and what failed."""

    list_display = ["created_at", "to_phone", "kind", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to_phone"]


@admin.register(SmsRecord)
class SmsRecordAdmin(_ReadOnly):
    """What the database gateway took (the demo's phones)."""

    list_display = ["sent_at", "to_phone", "body"]
    search_fields = ["to_phone"]


@admin.register(Assignment)
class AssignmentAdmin(_ReadOnly):
    list_display = ["ticket", "crew", "dispatched_at", "outcome", "answered_at", "is_redispatch"]
    list_filter = ["outcome", "crew"]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket", "crew"]


@admin.register(UnclosedPlan)
class UnclosedPlanAdmin(_ReadOnly):
    list_display = ["day", "ticket", "reason", "plan", "written_by"]
    list_filter = ["day"]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket", "written_by"]
