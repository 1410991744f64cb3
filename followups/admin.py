import calendar
from datetime import date, timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from followups.models import (
    Accountability,
    Callback,
    CallbackAttempt,
    CallbackRule,
    CallbackSampling,
    Complaint,
    WorkingDayOverride,
)
from followups.workdays import calendar_days, calendar_gaps


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

    def get_urls(self):
        month_view = self.admin_site.admin_view(self.month_view)
        return [
            path("calendar/", month_view, name="followups_workingdayoverride_calendar"),
            *super().get_urls(),
        ]

    def month_view(self, request):
        """The working-day calendar of one month, as every working-day deadline counts it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        first = _month(request.GET.get("month", "")) or today.replace(day=1)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        known = {day.day: day for day in calendar_days(start=first, end=last)}
        weeks = [
            [known.get(day) for day in week]
            for week in calendar.Calendar().monthdatescalendar(first.year, first.month)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Working days, %(month)s") % {"month": f"{first:%Y-%m}"},
            "month": first,
            "previous": f"{first - timedelta(days=1):%Y-%m}",
            "next": f"{last + timedelta(days=1):%Y-%m}",
            "weeks": weeks,
            "gaps": calendar_gaps(today=today),
            "entered": set(
                WorkingDayOverride.objects.filter(day__range=(first, last)).values_list(
                    "day", flat=True
                )
            ),
            "can_add": self.has_add_permission(request),
        }
        template = "admin/followups/workingdayoverride/calendar.html"
        return TemplateResponse(request, template, context)


def _month(value: str) -> date | None:
    """Return the first day of the month ``value`` names (YYYY-MM), or None."""
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


class CallbackSamplingInline(admin.TabularInline):
    model = CallbackSampling
    extra = 0


@admin.register(CallbackRule)
class CallbackRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "trigger",
        "channel",
        "category",
        "due_days",
        "day_kind",
        "sampling_percent",
        "on_unsatisfied",
        "deduction_points",
        "is_active",
    ]
    list_editable = ["is_active"]
    readonly_fields = ["scanned_through"]
    inlines = [CallbackSamplingInline]


class CallbackAttemptInline(admin.TabularInline):
    model = CallbackAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "by", "reached", "note"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class _ReadOnly(admin.ModelAdmin):
    """Written by the workbench only: read here, never changed by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Callback)
class CallbackAdmin(_ReadOnly):
    list_display = ["phone", "name", "rule", "ticket", "state", "due_at", "satisfaction", "done_at"]
    list_filter = ["state", "satisfaction", "rule"]
    search_fields = ["phone", "name", "ticket__number"]
    list_select_related = ["rule", "ticket"]
    raw_id_fields = ["ticket", "caller", "follows", "complaint"]
    inlines = [CallbackAttemptInline]
    show_full_result_count = False


@admin.register(Accountability)
class AccountabilityAdmin(admin.ModelAdmin):
    list_display = ["recorded_at", "ticket", "crew", "department", "person", "deduction_points"]
    list_filter = ["crew", "department"]
    search_fields = ["ticket__number", "person", "reason"]
    list_select_related = ["ticket", "crew", "department"]
    raw_id_fields = ["callback", "ticket"]
    readonly_fields = ["callback", "ticket", "recorded_by", "recorded_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Complaint)
class ComplaintAdmin(_ReadOnly):
    list_display = [
        "ticket",
        "first_reply_due",
        "first_replied_at",
        "final_reply_due",
        "final_replied_at",
    ]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket"]
    raw_id_fields = ["ticket"]
