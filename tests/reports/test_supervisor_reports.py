"""The weekly and monthly report pages: the supervisor writes, approves and downloads them."""

import io

import pytest
from openpyxl import load_workbook

from reports.models import Report

pytestmark = pytest.mark.django_db


def test_the_supervisor_writes_the_monthly_targets_and_approves_in_the_page(client, centre, month):
    client.force_login(centre.supervisor)
    page = client.get(f"/reports/{month.pk}/").content.decode()
    assert "单户漏水" in page  # the frequent problems
    assert "95.0%" in page  # October's target for satisfaction

    refused = client.post(
        f"/reports/{month.pk}/", {"remarks": "夜间响应慢", "measures": "增派夜班", "sla": "120"}
    )
    saved = client.post(
        f"/reports/{month.pk}/",
        {"remarks": "夜间响应慢", "measures": "增派夜班", "sla": "95", "satisfaction": ""},
    )
    approved = client.post(f"/reports/{month.pk}/approve/")

    assert refused.status_code == 400
    assert "errorlist" in refused.content.decode()
    assert (saved.status_code, approved.status_code) == (302, 302)
    month.refresh_from_db()
    assert (month.state, month.measures, month.targets) == ("approved", "增派夜班", {"sla": 95.0})
    frozen = client.get(f"/reports/{month.pk}/").content.decode()
    assert "增派夜班" in frozen
    assert f"/reports/{month.pk}/approve/" not in frozen
    again = client.post(f"/reports/{month.pk}/", {"remarks": "改"}, HTTP_REFERER="/reports/")
    assert again.status_code == 302  # back, with the message that it can no longer change
    month.refresh_from_db()
    assert month.remarks == "夜间响应慢"


def test_the_shift_leader_reads_the_weekly_report_but_writes_nothing_in_it(client, centre, week):
    report = Report.objects.get(kind="weekly")
    client.force_login(centre.shift_leader)

    page = client.get(f"/reports/{report.pk}/")
    written = client.post(f"/reports/{report.pk}/", {"remarks": "x"})

    assert page.status_code == 200
    assert "GD-2026-0042" in page.content.decode()
    assert written.status_code == 403
    report.refresh_from_db()
    assert report.remarks == ""


@pytest.mark.parametrize("kind", ["weekly", "monthly"])
def test_the_lists_show_the_weekly_and_monthly_reports(client, centre, week, month, kind):
    client.force_login(centre.supervisor)

    page = client.get(f"/reports/?kind={kind}").content.decode()

    report = Report.objects.filter(kind=kind).latest("period_start")
    assert f"/reports/{report.pk}/" in page
    assert f"/reports/{report.pk}/export.pdf" in page


def test_the_monthly_xlsx_has_each_part_of_the_report(client, centre, month):
    client.force_login(centre.supervisor)

    response = client.get(f"/reports/{month.pk}/export.xlsx")

    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert len(workbook.sheetnames) >= 10
    frequent = list(workbook.worksheets[2].values)
    assert frequent[0][0] == "Fault type" or frequent[0][0] == "故障类型"
    assert frequent[1][0] == "单户漏水"
    accountability = [row for sheet in workbook.worksheets for row in sheet.values]
    assert any(row[-1] == "未按时到场" for row in accountability)


@pytest.mark.parametrize("kind", ["shift", "daily", "weekly", "monthly"])
def test_each_report_downloads_as_a_pdf(client, centre, week, month, kind):
    report = Report.objects.filter(kind=kind).first()
    client.force_login(centre.supervisor)

    response = client.get(f"/reports/{report.pk}/export.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].endswith('.pdf"')


@pytest.mark.parametrize(
    ("kind", "at"), [("weekly", "2026-11-10T09:00"), ("monthly", "2026-10-15T09:00")]
)
def test_the_supervisor_computes_a_past_week_or_month_again(client, centre, week, kind, at):
    client.force_login(centre.supervisor)

    done = client.post("/reports/regenerate/", {"kind": kind, "at": at})

    report = Report.objects.get(
        kind=kind, period_start__lte=at + "+08:00", period_end__gt=at + "+08:00"
    )
    assert done.status_code == 302
    assert done["Location"] == f"/reports/{report.pk}/"
