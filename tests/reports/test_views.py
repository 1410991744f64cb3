"""The report pages: the list, a report with its review, computing one again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reports import services
from reports.models import Report
from tests.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports(centre, make_ticket, clock):
    make_ticket("dispatched")
    clock.move_to(T0 + timedelta(days=1))
    services.reports_produce(now=timezone.now())
    return Report.objects.filter(kind="shift").order_by("period_start")


def test_the_list_shows_each_shift_in_a_fixed_number_of_queries(
    client, centre, reports, django_assert_max_num_queries
):
    client.force_login(centre.supervisor)
    client.get("/")
    with django_assert_max_num_queries(8):
        page = client.get("/reports/")
    assert page.status_code == 200
    assert Report.objects.filter(kind="daily").exists()
    for report in reports:
        assert f"/reports/{report.pk}/" in page.content.decode()


def test_the_shift_leader_submits_remarks_and_the_supervisor_approves_in_the_page(
    client, centre, reports
):
    report = reports.get(period_start=T0.replace(hour=8))
    client.force_login(centre.shift_leader)
    assert "approve" not in client.get(f"/reports/{report.pk}/").content.decode().split("<main")[1]

    submitted = client.post(f"/reports/{report.pk}/", {"remarks": "白班平稳"})
    assert submitted.status_code == 302
    too_long = client.post(f"/reports/{report.pk}/", {"remarks": "长" * 4001})
    assert too_long.status_code == 400
    client.force_login(centre.supervisor)
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert f"/reports/{report.pk}/approve/" in page
    client.post(f"/reports/{report.pk}/approve/")

    report.refresh_from_db()
    assert (report.state, report.remarks) == (Report.State.APPROVED, "白班平稳")
    again = client.post(f"/reports/{report.pk}/approve/", HTTP_REFERER=f"/reports/{report.pk}/")
    assert again.status_code == 302  # back to the page with the message, nothing changed


def test_computing_an_unended_period_again_names_the_field(client, centre, reports):
    client.force_login(centre.supervisor)

    refused = client.post(
        "/reports/regenerate/",
        {"kind": "shift", "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
    )
    done = client.post("/reports/regenerate/", {"kind": "shift", "at": "2026-11-16T09:00"})

    assert refused.status_code == 400
    assert 'class="errorlist' in refused.content.decode()
    assert done.status_code == 302


def test_those_without_the_reports_may_not_read_them(client, centre, reports):
    report = reports.first()
    for user in (centre.agent, centre.dispatcher, centre.crew_leader):
        client.force_login(user)
        assert client.get("/reports/").status_code == 403
        assert client.get(f"/reports/{report.pk}/export.xlsx").status_code == 403
    client.force_login(centre.shift_leader)
    assert client.post(f"/reports/{report.pk}/approve/").status_code == 403
    assert not Report.objects.filter(state=Report.State.APPROVED).exists()
    assert client.post("/reports/regenerate/", {"at": "2026-11-16T09:00"}).status_code == 403
