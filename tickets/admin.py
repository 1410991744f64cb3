from django.contrib import admin

from tickets.models import (
    Alert,
    AlertSmsRule,
    ExtensionRequest,
    FaultType,
    Skill,
    SlaPolicy,
    Ticket,
    TicketEvent,
)


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(FaultType)
class FaultTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "default_grade", "skill", "is_active", "sort_order"]
    list_filter = ["category", "default_grade", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["code", "name"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "grade",
        "dispatch_minutes",
        "accept_minutes",
        "arrive_minutes",
        "mitigate_minutes",
        "resolve_minutes",
        "close_minutes",
        "warning_percent",
        "escalate_after_minutes",
    ]


@admin.register(AlertSmsRule)
class AlertSmsRuleAdmin(admin.ModelAdmin):
    list_display = ["level", "milestone", "grade", "is_active"]
    list_filter = ["level", "is_active"]
    list_editable = ["is_active"]


class _ReadOnly(admin.ModelAdmin):
    """Tickets and their history change only through the product's actions, never here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    fields = ["at", "action", "from_state", "to_state", "actor", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(_ReadOnly):
    list_display = ["number", "grade", "state", "fault_type", "district", "crew", "received_at"]
    list_filter = ["state", "grade", "category", "channel", "district"]
    search_fields = ["number", "external_ref", "caller_phone"]
    list_select_related = ["fault_type", "district", "crew"]
    date_hierarchy = "received_at"
    inlines = [TicketEventInline]
    show_full_result_count = False


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(_ReadOnly):
    list_display = ["ticket", "milestone", "cause", "state", "original_due", "requested_due"]
    list_filter = ["state", "cause", "milestone"]
    list_select_related = ["ticket"]


@admin.register(Alert)
class AlertAdmin(_ReadOnly):
    list_display = [
        "ticket",
        "milestone",
        "level",
        "due_at",
        "raised_at",
        "acknowledged_at",
        "acknowledged_by",
        "delay_cause",
    ]
    list_filter = ["level", "milestone", "delay_cause"]
    list_select_related = ["ticket", "acknowledged_by"]
    search_fields = ["ticket__number"]
    date_hierarchy = "raised_at"
