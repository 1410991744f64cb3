"""Forget remembered permissions whenever a role's or a person's grants change."""

from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete

from staffing.backends import permissions_forget
from staffing.models import User


def _changed(**kwargs) -> None:
    if kwargs.get("action", "post_").startswith("post_"):
        permissions_forget()


def connect() -> None:
    for relation in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_changed, sender=relation, dispatch_uid=f"forget-{relation.__name__}")
    post_delete.connect(_changed, sender=Group, dispatch_uid="forget-group-delete")
