"""Signing in, landing on the role's home, and the navigation each role sees."""

import pytest
from django.contrib.auth.models import Group

from staffing.roles import ROLE_PERMISSIONS, Role
from staffing.services import roles_sync
from tickets.choices import State


@pytest.mark.django_db
def test_the_sign_in_page_lists_demo_logins_only_in_demo_mode(client, settings):
    settings.DEMO_MODE = True
    assert "crew_east1" in client.get("/accounts/login/").content.decode()
    settings.DEMO_MODE = False
    assert "crew_east1" not in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_a_wrong_password_is_told_plainly(client, centre):
    response = client.post("/accounts/login/", {"username": "agent", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


@pytest.mark.django_db
def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "sees_new_ticket", "notice"),
    [
        ("agent", True, 'href="/console/"'),
        ("shift_leader", True, "switch floating seats on at a peak"),
        ("dispatcher", True, 'href="/dispatch/"'),
        ("supervisor", True, "the staffing plan sets the forecast against the roster"),
        ("department", False, "referred to your department"),
    ],
)
def test_each_role_lands_on_its_home_with_its_own_navigation(
    role, sees_new_ticket, notice, client, centre, make_ticket, clock
):
    make_ticket(State.DISPATCHED)
    client.force_login(centre.by_role()[role])
    client.cookies["django_language"] = "en"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    assert notice in page
    assert ('href="/tickets/new/"' in page) is sees_new_ticket


@pytest.mark.django_db
def test_a_crew_member_lands_on_the_crew_phone_view(client, centre):
    client.force_login(centre.crew_member)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/crew/"


@pytest.mark.django_db
def test_the_administrator_lands_in_the_admin(client, centre):
    client.force_login(centre.admin)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/admin/"


@pytest.mark.django_db
def test_the_home_page_costs_the_same_queries_however_many_tickets(
    client, centre, make_ticket, clock, django_assert_max_num_queries
):
    client.force_login(centre.dispatcher)
    make_ticket()
    with django_assert_max_num_queries(12) as few:
        client.get("/")
    for state in (State.DISPATCHED, State.ON_SITE, State.REFERRED, State.NEW, State.VERIFIED):
        make_ticket(state, fault_type=centre.billing if state == State.REFERRED else None)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/")


@pytest.mark.django_db
def test_the_default_language_is_chinese_and_english_can_be_chosen(client, centre):
    client.force_login(centre.agent)
    chinese = client.get("/")
    assert '<html lang="zh-hans">' in chinese.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/")
    assert '<html lang="en">' in english.content.decode()
    assert "New ticket" in english.content.decode()


@pytest.mark.django_db
def test_roles_sync_gives_each_group_exactly_its_permissions(centre):
    group = Group.objects.get(name=Role.AGENT)
    group.permissions.clear()
    roles_sync()
    roles_sync()  # a second run changes nothing
    for role, perms in ROLE_PERMISSIONS.items():
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=role).permissions.select_related("content_type")
        }
        assert granted == set(perms)


@pytest.mark.django_db
def test_a_role_change_applies_at_once_though_permissions_are_remembered(centre):
    from django.contrib.auth.models import Group

    from staffing.models import User

    assert User.objects.get(pk=centre.agent.pk).has_perm("tickets.add_ticket")
    centre.agent.groups.set([Group.objects.get(name=Role.CREW_MEMBER)])
    fresh = User.objects.get(pk=centre.agent.pk)
    assert not fresh.has_perm("tickets.add_ticket")
    assert fresh.has_perm("tickets.accept_ticket")
    Group.objects.get(name=Role.CREW_MEMBER).permissions.clear()
    assert not User.objects.get(pk=centre.agent.pk).has_perm("tickets.accept_ticket")
