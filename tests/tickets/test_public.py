"""The public status page and the completion slip: no login, nothing internal shown."""

import re
import socket
import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from weasyprint.urls import URLFetcher

from callcentre import pdf
from callcentre.pdf import pdf_from_html
from tickets import services, status
from tickets.choices import State
from tickets.models import Ticket
from tickets.public import slip_url, status_token, status_url
from tickets.services import CostLine, PartLine

pytestmark = pytest.mark.django_db

LOOKUP = "/status/"
LIMIT = 5
# The CSRF token is different in every response; everything else must not be.
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')
# The language switch returns to the address asked for, whatever it was.
NEXT = re.compile(rb'name="next" value="[^"]*"')


@pytest.fixture(autouse=True)
def _own_lookup_counters(settings):
    """Give each test counters of its own, so no other test's look-ups count against it."""
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"status-{uuid.uuid4()}",
        },
    }
    settings.STATUS_LOOKUPS_PER_HOUR = LIMIT


@pytest.fixture
def visitor() -> Client:
    """A customer's phone: no login, one address, English."""
    return Client(REMOTE_ADDR="203.0.113.7", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def closed_ticket(make_ticket, centre) -> Ticket:
    """A repair closed with parts, cost lines and free-text parts."""
    ticket = make_ticket(State.ON_SITE)
    services.ticket_resolve(
        actor=centre.crew_leader,
        ticket=ticket,
        measures="更换DN20铜接头，试压正常",
        parts="生料带若干",
        part_lines=[
            PartLine("DN20铜接头", Decimal(2), "个"),
            PartLine("PPR管", Decimal("1.5"), "米"),
        ],
        cost_lines=[CostLine("材料费", Decimal("35.50")), CostLine("人工费", Decimal("80.00"))],
    )
    services.ticket_close(actor=centre.dispatcher, ticket=Ticket.objects.get(pk=ticket.pk))
    return Ticket.objects.get(pk=ticket.pk)


def _look_up(client: Client, number: str, digits: str, **headers):
    return client.post(LOOKUP, {"number": number, "digits": digits}, **headers)


def _without_echo(content: bytes) -> bytes:
    return NEXT.sub(b"", CSRF.sub(b"", content))


def _show(ticket: Ticket) -> str:
    return reverse("status:show", args=[status_token(ticket)])


# The look-up.


def test_the_lookup_form_labels_both_inputs(visitor):
    page = visitor.get(LOOKUP).content.decode()
    assert '<label for="id_number">' in page
    assert '<label for="id_digits">' in page
    assert 'href="/tickets/' not in page  # no staff navigation for the public


def test_given_number_and_digits_when_looked_up_then_the_status_page_shows_state_and_timeline(
    visitor, make_ticket, centre, clock
):
    ticket = make_ticket(State.DISPATCHED)
    response = _look_up(visitor, ticket.number, "5678")
    assert response.status_code == 302
    assert response.url == _show(ticket)

    page = visitor.get(response.url).content.decode()
    assert ticket.number in page
    assert "Dispatched" in page
    assert "Your report was received." in page
    assert f"Sent to the repair crew {centre.crew.name}." in page
    assert "张*" in page
    assert "138****5678" in page
    assert "13812345678" not in page
    assert "completion slip" not in page  # not closed yet


def test_given_wrong_digits_or_an_unknown_number_then_the_answer_is_byte_identical(
    visitor, make_ticket, clock
):
    ticket = make_ticket(State.VERIFIED)
    wrong_digits = _look_up(visitor, ticket.number, "0000")
    unknown = _look_up(visitor, "991231-9999", "5678")
    assert wrong_digits.status_code == unknown.status_code == 200
    assert "No ticket matches this number and these digits." in unknown.content.decode()
    assert CSRF.sub(b"", wrong_digits.content) == CSRF.sub(b"", unknown.content)
    assert ticket.number.encode() not in wrong_digits.content
    assert "no-store" in unknown["Cache-Control"]


def test_given_too_many_lookups_then_429_and_a_forwarded_header_does_not_reset_the_count(
    visitor, make_ticket, clock, django_assert_num_queries
):
    ticket = make_ticket(State.VERIFIED)
    for attempt in range(LIMIT):
        digits = "5678" if attempt % 2 else f"{attempt:04d}"
        assert _look_up(visitor, ticket.number, digits).status_code in (200, 302)

    with django_assert_num_queries(0):  # refused before the look-up is even tried
        refused = _look_up(visitor, ticket.number, "5678")
    assert refused.status_code == 429
    assert "Too many look-ups" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 3600

    spoofed = _look_up(visitor, ticket.number, "5678", HTTP_X_FORWARDED_FOR="198.51.100.23")
    assert spoofed.status_code == 429

    elsewhere = Client(REMOTE_ADDR="203.0.113.8", HTTP_ACCEPT_LANGUAGE="en")
    assert _look_up(elsewhere, ticket.number, "5678").status_code == 302

    clock.shift(timedelta(hours=1))
    assert _look_up(visitor, ticket.number, "5678").status_code == 302


def test_the_count_lasts_the_hour_in_the_embedded_file_cache(
    visitor, make_ticket, clock, settings, tmp_path
):
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": tmp_path,
        },
    }
    ticket = make_ticket(State.VERIFIED)
    for _ in range(LIMIT):
        _look_up(visitor, ticket.number, "0000")
    clock.shift(timedelta(minutes=50))  # past the cache's default timeout, within the hour
    assert _look_up(visitor, ticket.number, "5678").status_code == 429


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"number": "260101-0001", "digits": "12a4"}, "digits"),
        ({"number": "260101-0001", "digits": "123"}, "digits"),
        ({"number": "260101-0001", "digits": "12345"}, "digits"),
        ({"number": "260101-0001", "digits": "١٢٣٤"}, "digits"),  # other scripts' digits
        ({"number": "x" * 21, "digits": "1234"}, "number"),
        ({"number": "", "digits": "1234"}, "number"),
    ],
)
def test_given_invalid_input_then_400_with_the_field_error(visitor, data, field):
    response = visitor.post(LOOKUP, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    assert 'aria-invalid="true"' in page
    assert page.count('class="errorlist"') == 1  # one message, not one per rule broken


# Signed links.


def test_the_links_for_an_sms_are_absolute_and_signed(closed_ticket, settings):
    settings.PUBLIC_BASE_URL = "https://repair.example.cn"
    token = status_token(closed_ticket)
    assert status_url(closed_ticket) == f"https://repair.example.cn/status/{token}/"
    assert slip_url(closed_ticket) == f"https://repair.example.cn/status/{token}/slip/"
    assert status.number_from_token(token) == closed_ticket.number


def test_given_a_tampered_token_then_the_same_404_as_an_unknown_ticket(visitor, closed_ticket):
    token = status_token(closed_ticket)
    unknown = signing.Signer(salt=status.STATUS_SALT).sign("991231-9999")
    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        closed_ticket.number,
        f"{closed_ticket.number}:{token.rsplit(':', 1)[1]}x",
        signing.Signer(salt="another-purpose").sign(closed_ticket.number),
        signing.Signer(salt=status.STATUS_SALT).sign("991231-9998").replace("9998", "9999", 1),
    ]
    expected = visitor.get(f"/status/{unknown}/")
    assert expected.status_code == 404
    for bad in forged:
        for suffix in ("", "slip/", "slip.pdf"):
            response = visitor.get(f"/status/{bad}/{suffix}")
            assert response.status_code == 404, (bad, suffix)
            assert _without_echo(response.content) == _without_echo(expected.content)


# The status page.


def test_the_public_timeline_never_shows_who_did_it_or_why(visitor, make_ticket, centre, clock):
    ticket = make_ticket(State.VERIFIED)
    services.ticket_dispatch(
        actor=centre.dispatcher, ticket=ticket, crew=centre.crew, note="内部：先派近的队"
    )
    services.ticket_decline(actor=centre.crew_leader, ticket=ticket, reason="队长拒单：人手不足")
    services.ticket_dispatch(actor=centre.dispatcher, ticket=ticket, crew=centre.crew)
    services.ticket_accept(actor=centre.crew_leader, ticket=ticket)
    ticket.refresh_from_db()
    extension = services.extension_request(
        actor=centre.crew_member,
        ticket=ticket,
        milestone="arrive",
        requested_due=ticket.arrive_due + timedelta(hours=2),
        cause="objective",
        reason="内部：材料短缺，仓库没货",
    )
    services.extension_decide(
        actor=centre.crew_leader, extension=extension, approve=True, note="内部批注"
    )
    ticket.refresh_from_db()

    page = visitor.get(_show(ticket)).content.decode()
    assert "The repair crew accepted the job." in page
    assert "The crew is now expected on site by" in page
    assert f"{timezone.localtime(ticket.arrive_due):%Y-%m-%d %H:%M}" in page
    for user in (centre.agent, centre.dispatcher, centre.crew_leader, centre.crew_member):
        assert user.username not in page
        if user.get_full_name():
            assert user.get_full_name() not in page
    for internal in ("内部", "人手不足", "材料短缺", "Declined"):
        assert internal not in page


def test_the_status_page_reads_few_queries_and_is_not_cached(
    visitor, closed_ticket, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):  # the ticket, its timeline, the outages in force
        response = visitor.get(_show(closed_ticket))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The ticket was closed; the completion slip is ready." in page
    assert reverse("status:slip", args=[status_token(closed_ticket)]) in page
    assert "no-store" in response["Cache-Control"]


# The completion slip.


def test_the_slip_of_a_closed_ticket_shows_its_parts_costs_total_and_crew(
    visitor, closed_ticket, centre, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):
        response = visitor.get(slip_url(closed_ticket).removeprefix(settings.PUBLIC_BASE_URL))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    for shown in (
        closed_ticket.number,
        closed_ticket.address_line(),
        centre.leak.name,
        centre.crew.name,
        "更换DN20铜接头，试压正常",
        "DN20铜接头",
        "PPR管",
        '<td class="amount">1.5</td>',
        '<td class="amount">2</td>',
        "生料带若干",
        "材料费",
        "35.50",
        "人工费",
        "80.00",
        "115.50",
        "signature-line",
        "data-print",
    ):
        assert shown in page, shown
    assert "<script>" not in page  # the Print button's script is a static file


def test_the_slip_of_an_answered_question_shows_the_department_and_the_answer(
    visitor, make_ticket, centre
):
    ticket = make_ticket(State.CLOSED, fault_type=centre.billing)
    page = visitor.get(f"/status/{status_token(ticket)}/slip/").content.decode()
    assert centre.department.name in page
    assert "已答复" in page
    assert "—" in page  # no cost was recorded, and none is made up


def test_a_slip_exists_only_once_the_ticket_is_closed(visitor, make_ticket, centre):
    ticket = make_ticket(State.RESOLVED)
    token = status_token(ticket)
    assert visitor.get(f"/status/{token}/slip/").url == f"/status/{token}/"
    assert visitor.get(f"/status/{token}/slip.pdf").status_code == 404

    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(centre.dispatcher)
    page = staff.get(f"/tickets/{ticket.number}/slip/")
    assert page.status_code == 404
    assert "its completion slip exists once it is closed" in page.content.decode()
    assert staff.get(f"/tickets/{ticket.number}/slip.pdf").status_code == 404


def test_the_slip_as_a_pdf(visitor, closed_ticket):
    response = visitor.get(f"/status/{status_token(closed_ticket)}/slip.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{closed_ticket.number}.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF")


def test_the_staff_slip_needs_a_login_and_sight_of_the_ticket(closed_ticket, centre):
    page, pdf = (
        f"/tickets/{closed_ticket.number}/slip/",
        f"/tickets/{closed_ticket.number}/slip.pdf",
    )
    anonymous = Client()
    assert anonymous.get(page).url.startswith(reverse("login"))
    assert anonymous.get(pdf).url.startswith(reverse("login"))

    other_crew = Client()
    other_crew.force_login(centre.other_crew_leader)
    assert other_crew.get(page).status_code == 404
    assert other_crew.get(pdf).status_code == 404

    for user in (centre.crew_leader, centre.dispatcher):
        staff = Client(HTTP_ACCEPT_LANGUAGE="en")
        staff.force_login(user)
        response = staff.get(page)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert centre.crew.name in response.content.decode()
        downloaded = staff.get(pdf)
        assert downloaded.status_code == 200
        assert downloaded.content.startswith(b"%PDF")
        assert "no-store" in downloaded["Cache-Control"]


# The PDF loads nothing from outside the app.


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/x.png",
        "http://example.com/static/css/public.css",
        "file:///etc/passwd",
        "data:text/css,body{}",
        f"{settings.PUBLIC_BASE_URL}/tickets/",
        f"{settings.PUBLIC_BASE_URL}/static/../callcentre/settings.py",
        f"{settings.PUBLIC_BASE_URL}/static/%2E%2E/callcentre/settings.py",
        f"{settings.PUBLIC_BASE_URL}/static/css/missing.css",
    ],
)
def test_the_pdf_fetcher_refuses_anything_but_the_apps_static_files(url):
    with pytest.raises(pdf.ResourceRefused):
        pdf.static_file_for_url(url)


def test_the_pdf_fetcher_serves_the_apps_static_files():
    found = pdf.static_file_for_url(f"{settings.PUBLIC_BASE_URL}/static/css/public.css")
    assert found.name == "public.css"
    assert b"@media print" in found.read_bytes()


def test_a_pdf_that_names_an_external_image_makes_no_network_request(closed_ticket):
    context = {**status.slip_context(closed_ticket), "pdf": True}
    html = render_to_string("tickets/slip.html", context).replace(
        "</article>",
        '<img src="https://example.com/x.png" alt=""><link rel="stylesheet" '
        'href="https://example.com/x.css"></article>',
    )
    connections, default_fetches = [], []
    with (
        mock.patch.object(socket.socket, "connect", lambda *args: connections.append(args)),
        mock.patch.object(URLFetcher, "fetch", lambda *args, **kw: default_fetches.append(args)),
    ):
        pdf = pdf_from_html(html)
    assert pdf.startswith(b"%PDF")
    assert connections == []
    assert default_fetches == []
