"""Permissions are read once and remembered, read back in one round trip to the cache, and
forgotten the moment a role or a grant changes."""

from unittest import mock

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache

from staffing.models import User
from staffing.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_cleared():
    cache.clear()


def _fresh(user: User) -> User:
    """The user as the next request loads it: nothing remembered on the object."""
    return User.objects.get(pk=user.pk)


def _dispatcher_only() -> str:
    """A permission the dispatcher's role has and the agent's has not."""
    granted = {
        role: {
            f"{app_label}.{codename}"
            for app_label, codename in Permission.objects.filter(group__name=role).values_list(
                "content_type__app_label", "codename"
            )
        }
        for role in (Role.DISPATCHER, Role.AGENT)
    }
    return sorted(granted[Role.DISPATCHER] - granted[Role.AGENT])[0]


def test_the_next_request_reads_the_permissions_in_one_cache_round_trip(
    centre, django_assert_num_queries
):
    user = _fresh(centre.agent)
    with django_assert_num_queries(1):
        first = user.get_all_permissions()
    assert first

    user = _fresh(centre.agent)
    calls = mock.Mock(wraps=cache)
    with mock.patch("staffing.backends.cache", calls), django_assert_num_queries(0):
        again = user.get_all_permissions()
    assert again == first
    assert [name for name, _args, _kwargs in calls.mock_calls] == ["get_many"]


def test_a_new_role_counts_on_the_next_request(centre):
    permission = _dispatcher_only()
    agent = centre.agent
    assert not _fresh(agent).has_perm(permission)

    agent.groups.add(Group.objects.get(name=Role.DISPATCHER))
    assert _fresh(agent).has_perm(permission)

    agent.groups.remove(Group.objects.get(name=Role.DISPATCHER))
    assert not _fresh(agent).has_perm(permission)


def test_a_grant_to_the_role_counts_for_everyone_in_it_on_their_next_request(centre):
    permission = _dispatcher_only()
    app_label, codename = permission.split(".")
    assert not _fresh(centre.agent).has_perm(permission)

    Group.objects.get(name=Role.AGENT).permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    assert _fresh(centre.agent).has_perm(permission)


def test_with_the_version_gone_from_the_cache_the_permissions_are_read_again(
    centre, django_assert_num_queries
):
    _fresh(centre.agent).get_all_permissions()
    cache.delete("permissions:version")
    user = _fresh(centre.agent)
    with django_assert_num_queries(1):
        assert user.get_all_permissions()
