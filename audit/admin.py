from django.contrib import admin

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read by the administrator; nobody adds, changes or deletes an entry."""

    list_display = ["at", "action", "actor_name", "subject", "address"]
    list_filter = ["action"]
    search_fields = ["actor_name", "subject", "address"]
    date_hierarchy = "at"
    readonly_fields = ["at", "action", "actor", "actor_name", "subject", "data", "address"]
    list_select_related = False
    show_full_result_count = False  # a count of the whole log on every page is slow

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
