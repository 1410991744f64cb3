"""A report as sheets of rows, for the CSV and xlsx downloads."""

from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from callcentre.exports import Sheet
from reports.models import Report


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
        Sheet(
            _("Unclosed tickets"),
            [
                _("Ticket"),
                _("Received"),
                _("Grade"),
                _("Fault type"),
                _("Address"),
                _("State"),
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
                for row in figures["unclosed"]["rows"]
            ),
        ),
    ]


SHEETS = {Report.Kind.SHIFT: shift_sheets}


def report_filename(report: Report, extension: str) -> str:
    start = timezone.localtime(report.period_start)
    return f"{report.kind}-report-{start:%Y%m%d-%H%M}.{extension}"
