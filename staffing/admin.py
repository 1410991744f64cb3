from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from staffing.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Contact"), {"fields": ["phone", "extension"]}),
    )
    list_display = ["username", "first_name", "last_name", "phone", "extension", "is_active"]
    list_filter = ["groups", "is_active", "is_staff"]
