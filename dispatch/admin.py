from django.contrib import admin

from dispatch.models import (
    Community,
    Crew,
    CrewMembership,
    Department,
    District,
    OutboundMessage,
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
    list_display = ["code", "name", "max_pipe_diameter", "is_active"]
    list_filter = ["is_active", "districts"]
    filter_horizontal = ["districts", "skills"]
    inlines = [CrewMembershipInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active"]
    filter_horizontal = ["members"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    """The outbox is read here to see what went out and what failed; it is not edited."""

    list_display = ["created_at", "to_phone", "kind", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to_phone"]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
