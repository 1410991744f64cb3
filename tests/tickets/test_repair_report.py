"""The crew's repair report: parts, costs and photos, all saved together or not at all."""

import io
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tickets import services
from tickets.choices import State
from tickets.errors import ApplicationError
from tickets.models import RepairCost, RepairPart, RepairPhoto, Ticket
from tickets.receipts import receipt_take
from tickets.services import CostLine, PartLine

PARTS = [PartLine(name="DN20 接头", quantity=Decimal("2"), unit="个")]
COSTS = [
    CostLine(item="材料", amount=Decimal("35.50")),
    CostLine(item="人工", amount=Decimal("80.00")),
]

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _image(name: str = "site.jpg", image_format: str = "PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "steelblue").save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _files_in(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()]


def _resolve(centre, ticket: Ticket, **report) -> Ticket:
    return services.ticket_resolve(actor=centre.crew_leader, ticket=ticket, **report)


def _assert_nothing_saved(ticket: Ticket, media_root) -> None:
    ticket.refresh_from_db()
    assert ticket.state == State.ON_SITE
    assert (ticket.repair_measures, ticket.repair_cost) == ("", None)
    assert not RepairPart.objects.exists()
    assert not RepairCost.objects.exists()
    assert not RepairPhoto.objects.exists()
    assert _files_in(media_root) == []


# Parts, costs and the close deadline.


def test_given_part_and_cost_lines_when_the_crew_completes_then_they_are_kept_and_the_cost_is_their_sum(  # noqa: E501
    centre, make_ticket, clock
):
    ticket = make_ticket(State.ON_SITE)
    clock.shift(timedelta(hours=1))

    _resolve(centre, ticket, measures="更换接头", part_lines=PARTS, cost_lines=COSTS)

    ticket.refresh_from_db()
    assert ticket.state == State.RESOLVED
    assert [(p.name, p.quantity, p.unit) for p in ticket.parts.all()] == [
        ("DN20 接头", Decimal("2.00"), "个")
    ]
    assert [(c.item, c.amount) for c in ticket.costs.all()] == [
        ("材料", Decimal("35.50")),
        ("人工", Decimal("80.00")),
    ]
    assert ticket.repair_cost == Decimal("115.50")


def test_given_the_policy_allows_longer_then_the_close_deadline_is_two_hours_after_completion(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.ON_SITE)  # a general repair: closed within 24 hours
    clock.shift(timedelta(hours=1))

    _resolve(centre, ticket, measures="更换接头", cost_lines=COSTS)

    ticket.refresh_from_db()
    assert ticket.close_due == ticket.resolved_at + timedelta(minutes=120)


def test_given_the_policy_deadline_comes_first_then_the_close_deadline_stays(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.ON_SITE, fault_type=centre.burst)  # closed within 4 hours
    policy_close_due = ticket.close_due
    clock.shift(timedelta(hours=3))

    _resolve(centre, ticket, measures="抢修爆管", cost_lines=COSTS)

    ticket.refresh_from_db()
    assert ticket.resolved_at + timedelta(minutes=120) > policy_close_due
    assert ticket.close_due == policy_close_due


def test_given_a_cost_that_disagrees_with_its_lines_then_the_report_is_refused_and_nothing_saved(
    centre, make_ticket, media_root
):
    ticket = make_ticket(State.ON_SITE)

    with pytest.raises(ApplicationError) as refused:
        _resolve(
            centre,
            ticket,
            measures="更换接头",
            cost=Decimal("100"),
            part_lines=PARTS,
            cost_lines=COSTS,
        )

    assert refused.value.code == "invalid"
    assert set(refused.value.fields) == {"cost"}
    _assert_nothing_saved(ticket, media_root)


def test_given_no_measures_then_the_report_is_refused_and_nothing_saved(
    centre, make_ticket, media_root
):
    ticket = make_ticket(State.ON_SITE)

    with pytest.raises(ApplicationError) as refused:
        _resolve(centre, ticket, measures="", part_lines=PARTS, cost_lines=COSTS, photos=[_image()])

    assert refused.value.code == "invalid"
    assert set(refused.value.fields) == {"measures"}
    _assert_nothing_saved(ticket, media_root)


# Photos.


@pytest.mark.parametrize(
    ("image_format", "extension", "content_type"),
    [("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg")],
)
def test_a_photo_is_stored_under_a_generated_name_whatever_name_the_phone_sent(
    centre, make_ticket, media_root, clock, image_format, extension, content_type
):
    ticket = make_ticket(State.ON_SITE)
    upload = _image("../../etc/passwd.jpg", image_format)

    _resolve(centre, ticket, measures="更换接头", cost_lines=COSTS, photos=[upload])

    [photo] = RepairPhoto.objects.all()
    assert photo.image.name == f"photos/2026/11/{photo.key}.{extension}"
    assert isinstance(photo.key, uuid.UUID)
    assert (photo.extension, photo.content_type) == (extension, content_type)
    assert "passwd" not in photo.image.name
    assert "etc" not in photo.image.name
    [stored] = _files_in(media_root)
    assert stored == media_root / photo.image.name
    assert re.fullmatch(r"[0-9a-f-]{36}\.(png|jpg)", stored.name)


def test_given_a_file_that_is_not_a_photo_then_the_report_is_refused_and_nothing_saved(
    centre, make_ticket, media_root
):
    ticket = make_ticket(State.ON_SITE)
    fake = SimpleUploadedFile("site.jpg", b"#!/bin/sh\nrm -rf /\n", content_type="image/jpeg")

    with pytest.raises(ApplicationError) as refused:
        _resolve(
            centre,
            ticket,
            measures="更换接头",
            part_lines=PARTS,
            cost_lines=COSTS,
            photos=[_image(), fake],
        )

    assert refused.value.code == "invalid"
    assert set(refused.value.fields) == {"photos"}
    _assert_nothing_saved(ticket, media_root)


def test_given_a_photo_over_the_size_limit_then_the_report_is_refused_and_nothing_saved(
    centre, make_ticket, media_root, settings
):
    ticket = make_ticket(State.ON_SITE)
    upload = _image()
    settings.PHOTO_MAX_BYTES = upload.size - 1

    with pytest.raises(ApplicationError) as refused:
        _resolve(
            centre, ticket, measures="更换接头", part_lines=PARTS, cost_lines=COSTS, photos=[upload]
        )

    assert refused.value.code == "invalid"
    assert set(refused.value.fields) == {"photos"}
    _assert_nothing_saved(ticket, media_root)


def test_given_more_photos_than_a_ticket_keeps_then_the_report_is_refused_and_nothing_saved(
    centre, make_ticket, media_root, settings
):
    settings.PHOTOS_PER_TICKET = 2
    ticket = make_ticket(State.ON_SITE)

    with pytest.raises(ApplicationError) as refused:
        _resolve(
            centre,
            ticket,
            measures="更换接头",
            cost_lines=COSTS,
            photos=[_image(), _image(), _image()],
        )

    assert refused.value.code == "invalid"
    assert set(refused.value.fields) == {"photos"}
    _assert_nothing_saved(ticket, media_root)


def test_given_a_ticket_the_crew_has_not_accepted_then_photos_cannot_be_added(
    centre, make_ticket, media_root
):
    ticket = make_ticket(State.DISPATCHED)

    with pytest.raises(ApplicationError) as refused:
        services.repair_photos_add(actor=centre.crew_leader, ticket=ticket, photos=[_image()])

    assert refused.value.code == "conflict"
    assert not RepairPhoto.objects.exists()
    assert _files_in(media_root) == []


# Receipts of submitted actions.


def test_a_receipt_is_taken_once_per_key_and_user(centre, make_ticket):
    ticket = make_ticket(State.DISPATCHED)
    key = uuid.uuid4()
    now = timezone.now()

    first = receipt_take(user=centre.crew_leader, key=key, ticket=ticket, action="accept", at=now)
    retry = receipt_take(user=centre.crew_leader, key=key, ticket=ticket, action="accept", at=now)
    other = receipt_take(user=centre.crew_member, key=key, ticket=ticket, action="accept", at=now)

    assert (first, retry, other) == (True, False, True)
