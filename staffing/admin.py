from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from staffing.models import (
    ForecastAccuracy,
    RosterEntry,
    Seat,
    SeatSession,
    ShiftTemplate,
    StaffingSettings,
    StatusSpell,
    User,
    WallboardThreshold,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Contact"), {"fields": ["phone", "extension"]}),
    )
    list_display = ["username", "first_name", "last_name", "phone", "extension", "is_active"]
    list_filter = ["groups", "is_active", "is_staff"]


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin):
    list_display = ["label", "extension", "floating", "switched_on"]
    list_filter = ["floating", "switched_on"]
    search_fields = ["label", "extension"]


@admin.register(ShiftTemplate)
class ShiftTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "starts_at", "ends_at", "handover", "active"]
    list_filter = ["handover", "active"]


@admin.register(RosterEntry)
class RosterEntryAdmin(admin.ModelAdmin):
    list_display = ["day", "shift", "person", "role", "signed_in_at", "signed_out_at"]
    list_filter = ["shift", "role", "day"]
    search_fields = ["person__username", "person__first_name", "person__last_name"]
    date_hierarchy = "day"


@admin.register(WallboardThreshold)
class WallboardThresholdAdmin(admin.ModelAdmin):
    list_display = ["figure", "amber", "red"]

    def has_add_permission(self, request) -> bool:
        return False  # one row per figure, seeded

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StaffingSettings)
class StaffingSettingsAdmin(admin.ModelAdmin):
    fieldsets = [
        (_("Wallboard"), {"fields": ["service_level_seconds"]}),
        (
            _("Planning"),
            {
                "fields": [
                    "target_service_level",
                    "target_seconds",
                    "aht_seconds",
                    "max_occupancy",
                    "shrinkage",
                    "patience_seconds",
                ]
            },
        ),
        (_("Attendance"), {"fields": ["late_after_minutes", "absent_after_minutes"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return False  # the one row, seeded

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class _ReadOnly(admin.ModelAdmin):
    """Records the app writes: read here, never edited."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SeatSession)
class SeatSessionAdmin(_ReadOnly):
    list_display = ["seat", "agent", "signed_in_at", "signed_out_at"]
    list_filter = ["seat"]
    date_hierarchy = "signed_in_at"


@admin.register(StatusSpell)
class StatusSpellAdmin(_ReadOnly):
    list_display = ["agent", "status", "started_at", "ended_at", "source", "seat"]
    list_filter = ["status", "source"]
    search_fields = ["agent__username", "agent__first_name", "agent__last_name"]
    date_hierarchy = "started_at"


@admin.register(ForecastAccuracy)
class ForecastAccuracyAdmin(_ReadOnly):
    list_display = ["day", "forecast_calls", "actual_calls", "mape", "schedule_accuracy"]
    date_hierarchy = "day"
