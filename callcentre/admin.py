from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from callcentre.models import (
    Call,
    Caller,
    CallerAddress,
    CtiEvent,
    FaqEntry,
    Open311Partner,
    Open311Request,
    Open311Service,
    SpecialEvent,
)
from callcentre.open311.services import partner_issue, partner_key_renew


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


@admin.register(Open311Partner)
class Open311PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "key_prefix", "requests_per_minute", "is_active"]
    fields = ["name", "channel", "requests_per_minute", "is_active", "key_prefix", "user"]
    readonly_fields = ["key_prefix", "user"]
    actions = ["renew_key"]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = partner_issue(
            name=obj.name, channel=obj.channel, requests_per_minute=obj.requests_per_minute
        )
        obj.pk, obj.user, obj.key_prefix = issued.partner.pk, issued.partner.user, issued.key[:8]
        obj._state.adding = False
        self._key_show(request, issued.partner, issued.key)

    @admin.action(description=_("Issue a new API key (the old one stops working)"))
    def renew_key(self, request, queryset) -> None:
        for partner in queryset:
            self._key_show(request, partner, partner_key_renew(partner=partner))

    def _key_show(self, request, partner: Open311Partner, key: str) -> None:
        messages.warning(
            request,
            _("The API key of %(partner)s, shown this once (give it to the partner): %(key)s")
            % {"partner": partner, "key": key},
        )


@admin.register(Open311Service)
class Open311ServiceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "fault_type", "group", "is_active", "sort_order"]
    list_filter = ["is_active", "fault_type__category"]
    search_fields = ["code", "name"]


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ["ticket", "service", "partner", "requested_at"]
    list_filter = ["partner"]
    readonly_fields = [field.name for field in Open311Request._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
