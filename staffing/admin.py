from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from audit.services import (
    audit_access_changed,
    audit_role_permissions_changed,
    audit_user_created,
)
from audit.signals import client_address
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
from staffing.selectors import role_permissions, user_access


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users and their roles; every change of a user's access is written to the audit log."""

    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Contact"), {"fields": ["phone", "extension"]}),
    )
    list_display = ["username", "first_name", "last_name", "phone", "extension", "is_active"]
    list_filter = ["groups", "is_active", "is_staff"]

    def save_model(self, request, obj, form, change) -> None:
        # The form lives for this request only: a safe place for what the user could do.
        form.access_before = user_access(user_id=obj.pk) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)  # the roles are saved here
        user = form.instance
        if change:
            audit_access_changed(
                actor=request.user,
                user=user,
                before=form.access_before,
                after=user_access(user_id=user.pk),
                address=client_address(request),
            )
        else:
            audit_user_created(
                actor=request.user,
                user=user,
                role=", ".join(user_access(user_id=user.pk)["roles"]),
            )


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(GroupAdmin):
    """The roles (groups); a change of a role's permissions is written to the audit log."""

    def save_model(self, request, obj, form, change) -> None:
        form.permissions_before = role_permissions(group_id=obj.pk) if change else []
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        audit_role_permissions_changed(
            actor=request.user,
            role=form.instance.name,
            before=form.permissions_before,
            after=role_permissions(group_id=form.instance.pk),
            address=client_address(request),
        )


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
