"""Who may use each dispatch page and endpoint: one table, read row by row.

A crew sees only its own crew's work; to another crew a ticket and its photos do not exist
(404, in the pages and the API alike), so a number cannot be probed.
"""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from dispatch.models import UnclosedPlan
from tickets import services
from tickets.choices import State
from tickets.models import Ticket

# The columns of the table, in order; "crew_b" is the leader of another crew.
ROLES = (
    "anonymous",
    "agent",
    "shift_leader",
    "dispatcher",
    "supervisor",
    "crew_member",
    "crew_leader",
    "department",
    "crew_b",
)

# Each endpoint: how it is called. {n} is a ticket of crew A waiting for it to accept;
# {photo} is a photo of another ticket crew A is working.
ENDPOINTS = {
    "board": ("get", "/dispatch/"),
    "lanes": ("get", "/dispatch/lanes/"),
    "send dialog": ("get", "/dispatch/tickets/{n}/send/"),
    "unclosed list": ("get", "/dispatch/unclosed/"),
    "unclosed plan": ("post", "/dispatch/unclosed/{n}/"),
    "crew list": ("get", "/crew/"),
    "crew ticket": ("get", "/crew/{n}/"),
    "crew accept": ("post", "/crew/{n}/accept/"),
    "crew duty": ("post", "/crew/duty/"),
    "photo": ("get", "/tickets/{photo}/"),
    "api ticket": ("get", "/api/v1/tickets/{n}/"),
}

# fmt: off
MATRIX = {
    #                anon agent shift  disp   sup member leader dept crew_b
    "board":         (302, 403,  403,  200,  200,  403,  403,  403,  403),
    "lanes":         (302, 403,  403,  200,  200,  403,  403,  403,  403),
    "send dialog":   (302, 403,  403,  200,  200,  403,  403,  403,  403),
    "unclosed list": (302, 403,  403,  200,  200,  403,  403,  403,  403),
    "unclosed plan": (302, 403,  403,  200,  200,  403,  403,  403,  403),
    "crew list":     (302, 403,  403,  403,  403,  200,  200,  403,  200),
    "crew ticket":   (302, 403,  403,  403,  403,  200,  200,  403,  404),
    "crew accept":   (302, 403,  403,  403,  403,  302,  302,  403,  404),
    "crew duty":     (302, 403,  403,  403,  403,  302,  302,  403,  302),
    "photo":         (302, 200,  200,  200,  200,  200,  200,  404,  404),
    # The API answers a request without credentials 401, with how to authenticate.
    "api ticket":    (401, 200,  200,  200,  200,  200,  200,  404,  404),
}
# fmt: on

CASES = [
    pytest.param(endpoint, role, status, id=f"{endpoint}-{role}-{status}")
    for endpoint, statuses in MATRIX.items()
    for role, status in zip(ROLES, statuses, strict=True)
]


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 90, 200)).save(buffer, "PNG")
    return SimpleUploadedFile("site.png", buffer.getvalue(), content_type="image/png")


def _user(centre, role: str):
    if role == "anonymous":
        return None
    if role == "crew_b":
        return centre.other_crew_leader
    return centre.by_role()[role]


@pytest.fixture
def crew_a_work(centre, make_ticket, settings, tmp_path):
    """Return crew A's ticket waiting to be accepted, and a photo of one it is working."""
    settings.MEDIA_ROOT = tmp_path
    waiting = make_ticket(State.DISPATCHED)
    working = make_ticket(State.ON_SITE)
    (photo,) = services.repair_photos_add(actor=centre.crew_leader, ticket=working, photos=[_png()])
    return waiting, photo


def _request(client, endpoint: str, waiting, photo):
    method, url = ENDPOINTS[endpoint]
    url = url.format(n=waiting.number, photo=f"{photo.ticket.number}/photos/{photo.key}")
    data = {
        "unclosed plan": {
            "day": timezone.localdate().isoformat(),
            f"{waiting.number}-reason": "等待材料",
            f"{waiting.number}-plan": "明早复修",
        },
        "crew accept": {"receipt": str(uuid.uuid4())},
        "crew duty": {"on_duty": "1"},
    }.get(endpoint, {})
    return getattr(client, method)(url, data)


@pytest.mark.django_db
def test_given_the_centre_roles_then_the_table_has_a_column_for_each_and_a_row_per_endpoint(centre):
    assert set(ROLES) == {"anonymous", "crew_b", *centre.by_role()}
    assert MATRIX.keys() == ENDPOINTS.keys()


@pytest.mark.django_db
@pytest.mark.parametrize(("endpoint", "role", "status"), CASES)
def test_given_a_role_when_it_calls_a_dispatch_endpoint_then_it_gets_the_status_in_the_table(
    endpoint, role, status, client, centre, crew_a_work, clock
):
    waiting, photo = crew_a_work
    user = _user(centre, role)
    if user is not None:
        client.force_login(user)

    response = _request(client, endpoint, waiting, photo)

    assert response.status_code == status
    if status == 302 and user is None:
        assert response.url.startswith("/accounts/login/")
    # What a role may not do leaves everything as it was.
    if endpoint == "crew accept":
        accepted = Ticket.objects.get(pk=waiting.pk).state == State.ACCEPTED
        assert accepted == (status == 302 and user is not None)
    if endpoint == "unclosed plan":
        assert UnclosedPlan.objects.exists() == (status == 200)
    if endpoint == "crew duty":
        centre.crew.refresh_from_db()
        centre.other_crew.refresh_from_db()
        assert centre.crew.is_on_duty == (role in ("crew_member", "crew_leader"))
        assert centre.other_crew.is_on_duty == (role == "crew_b")


@pytest.mark.django_db
def test_given_crew_a_work_when_crew_b_asks_for_it_anywhere_then_it_does_not_exist(
    client, centre, crew_a_work, clock
):
    waiting, photo = crew_a_work
    client.force_login(centre.other_crew_leader)
    urls = [
        f"/crew/{waiting.number}/",
        f"/tickets/{waiting.number}/",
        f"/tickets/{photo.ticket.number}/photos/{photo.key}/",
        f"/api/v1/tickets/{waiting.number}/",
    ]

    responses = {url: client.get(url) for url in urls}

    assert {url: r.status_code for url, r in responses.items()} == dict.fromkeys(urls, 404)
    for response in responses.values():
        body = response.content.decode()
        assert "13812345678" not in body
        assert waiting.description not in body
    api_body = responses[urls[-1]].json()
    assert api_body["code"] == "not_found"
    # Crew B's own list does not carry crew A's work either.
    assert waiting.number not in client.get("/crew/").content.decode()
