from django.contrib import admin

from callcentre.models import Call, Caller, CallerAddress, CtiEvent, FaqEntry, SpecialEvent


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "category", "is_published", "updated_at"]
    list_filter = ["is_published", "category"]
    search_fields = ["question", "keywords", "answer"]


class CallerAddressInline(admin.TabularInline):
    model = CallerAddress
    extra = 0


@admin.register(Caller)
class CallerAdmin(admin.ModelAdmin):
    list_display = ["phone", "name", "customer_type", "updated_at"]
    list_filter = ["customer_type"]
    search_fields = ["phone", "name"]
    inlines = [CallerAddressInline]


class CtiEventInline(admin.TabularInline):
    model = CtiEvent
    fields = ["event", "occurred_at", "received_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    """Calls are the record of what happened; they are read here, not edited."""

    list_display = ["caller_number", "channel", "agent", "answered_at", "outcome", "abandoned"]
    list_filter = ["channel", "outcome", "abandoned"]
    search_fields = ["caller_number", "cti_call_id"]
    list_select_related = ["agent"]
    inlines = [CtiEventInline]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SpecialEvent)
class SpecialEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "caller_phone", "ticket", "recorded_by"]
    list_filter = ["kind"]
    list_select_related = ["ticket", "recorded_by"]
    raw_id_fields = ["ticket"]
