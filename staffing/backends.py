from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.cache import cache

# How long a person's permissions are remembered. Changes made through roles and groups
# clear them at once (staffing.signals); this bounds what a process with its own local
# cache may still hold after a change made in another process.
PERMISSIONS_TTL = 60
_VERSION_KEY = "permissions:version"


def permissions_forget() -> None:
    """Make every remembered permission set stale: roles or grants have changed."""
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:
        cache.set(_VERSION_KEY, 1, timeout=None)


class RoleBackend(ModelBackend):
    """Django's model backend, with each person's permissions read in one query and cached.

    Every API request checks a permission; this turns ModelBackend's two queries for it
    into one read of the cache most of the time: the person's set is remembered with the
    version of the grants it was read under, and both are read together.
    """

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            key = f"permissions:{user_obj.pk}:{int(user_obj.is_superuser)}"
            found = cache.get_many([_VERSION_KEY, key])
            version = found.get(_VERSION_KEY)
            if version is None:
                cache.add(_VERSION_KEY, 1, timeout=None)
                version = cache.get(_VERSION_KEY, 1)
            remembered_version, permissions = found.get(key, (None, None))
            if remembered_version != version:
                permissions = self._read_permissions(user_obj)
                cache.set(key, (version, permissions), timeout=PERMISSIONS_TTL)
            user_obj._perm_cache = permissions
        return user_obj._perm_cache

    def _read_permissions(self, user_obj) -> set[str]:
        fields = ("content_type__app_label", "codename")
        permissions = Permission.objects.order_by().values_list(*fields)
        if not user_obj.is_superuser:
            permissions = permissions.filter(user=user_obj).union(
                permissions.filter(group__user=user_obj)
            )
        return {f"{app_label}.{codename}" for app_label, codename in permissions}
