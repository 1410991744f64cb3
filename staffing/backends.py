from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class RoleBackend(ModelBackend):
    """Django's model backend, reading a user's own and their roles' permissions in one query.

    Every API request checks a permission, so the two queries ModelBackend makes for it
    become one.
    """

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            fields = ("content_type__app_label", "codename")
            permissions = Permission.objects.order_by().values_list(*fields)
            if not user_obj.is_superuser:
                permissions = permissions.filter(user=user_obj).union(
                    permissions.filter(group__user=user_obj)
                )
            user_obj._perm_cache = {
                f"{app_label}.{codename}" for app_label, codename in permissions
            }
        return user_obj._perm_cache
