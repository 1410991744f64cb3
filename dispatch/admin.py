from django.contrib import admin

from dispatch.models import Community, Crew, CrewMembership, Department, District


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
