"""A report as sheets of rows, for the CSV and xlsx downloads."""

from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from callcentre.exports import Sheet
from reports.models import Report
from tickets.choices import Grade, Milestone


def _when(value: str) -> str:
    return formats.date_format(timezone.localtime(datetime.fromisoformat(value)), "Y-m-d H:i")


def shift_sheets(report: Report) -> list[Sheet]:
    figures = report.figures
    calls, tickets = figures["calls"], figures["tickets"]
    summary = [
        [_("Calls received"), calls["received"]],
        [_("Calls answered"), calls["answered"]],
        [_("Calls abandoned"), calls["abandoned"]],
        [_("Tickets received"), tickets["received"]],
        [_("Valid requests"), tickets["valid"]],
        [_("Cancelled"), tickets["cancelled"]],
        [_("Merged into another ticket"), tickets["merged"]],
        [_("Unclosed at the end of the shift"), figures["unclosed"]["count"]],
    ]
    return [
        Sheet(_("Summary"), [_("Figure"), _("Value")], summary),
        Sheet(
            _("By fault type"),
            [_("Fault type"), _("Tickets"), _("Share (%)")],
            [[row["fault_type"], row["count"], row["share"]] for row in figures["by_fault"]],
        ),
        _ticket_sheet(_("Unclosed tickets"), figures["unclosed"]["rows"]),
    ]


def _ticket_sheet(title: str, rows: list[dict]) -> Sheet:
    return Sheet(
        title,
        [
            _("Ticket"),
            _("Received"),
            _("Grade"),
            _("Fault type"),
            _("Address"),
            _("State now"),
            _("With"),
            _("Why it is open"),
        ],
        (
            [
                row["number"],
                _when(row["received_at"]),
                row["grade"],
                row["fault_type"],
                row["address"],
                row["state"],
                row["with"],
                row["reason"],
            ]
            for row in rows
        ),
    )


def daily_sheets(report: Report) -> list[Sheet]:
    figures = report.figures
    completion, satisfaction = figures["completion"], figures["satisfaction"]
    summary = [
        [_("Valid requests"), completion["valid"]],
        [_("Closed the same day"), completion["closed"]],
        [_("Completion rate (%)"), completion["share"]],
        [_("Callbacks done"), satisfaction["done"]],
        [_("Satisfaction (%)"), satisfaction["share"]],
        [_("Overdue at midnight"), figures["overdue"]["count"]],
    ]
    grades, milestones = dict(Grade.choices), dict(Milestone.choices)
    return [
        Sheet(_("Summary"), [_("Figure"), _("Value")], summary),
        Sheet(
            _("SLA compliance"),
            [_("Grade"), _("Milestone"), _("Deadlines"), _("Met"), _("Share (%)")],
            [
                [
                    grades[row["grade"]],
                    milestones[row["milestone"]],
                    row["counted"],
                    row["met"],
                    row["share"],
                ]
                for row in figures["compliance"]
            ],
        ),
        _ticket_sheet(_("Overdue tickets"), figures["overdue"]["rows"]),
        _ticket_sheet(_("Special tickets"), figures["special"]),
    ]


SHEETS = {Report.Kind.SHIFT: shift_sheets, Report.Kind.DAILY: daily_sheets}


def report_filename(report: Report, extension: str) -> str:
    start = timezone.localtime(report.period_start)
    return f"{report.kind}-report-{start:%Y%m%d-%H%M}.{extension}"
