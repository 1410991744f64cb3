from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from staffing.models import User
from staffing.roles import ROLE_PERMISSIONS, STAFF_ROLES, Role


@transaction.atomic
def roles_sync() -> None:
    """Create the role groups and give each exactly the permissions of ROLE_PERMISSIONS."""
    wanted = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    by_name = {
        f"{perm.content_type.app_label}.{perm.codename}": perm
        for perm in Permission.objects.select_related("content_type")
    }
    missing = wanted - by_name.keys()
    if missing:
        # Not every app has migrated yet (a partial migrate); the last post_migrate completes it.
        return
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set([by_name[perm] for perm in perms])


def roles_sync_after_migrate(**kwargs: Any) -> None:
    roles_sync()


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: Role,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
) -> User:
    """Create a user in one role; supervisors and administrators may open the admin."""
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        is_staff=role in STAFF_ROLES,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.add(Group.objects.get(name=role.value))
    return user
