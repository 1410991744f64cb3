"""A report as sheets of rows, for the CSV and xlsx downloads."""

from datetime import datetime

from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from callcentre.exports import Sheet
from outages.models import Outage
from reports.models import Report, Target
from reports.monthly import DayPart
from tickets.choices import Category, Channel, ExtensionCause, Grade, Milestone, State
from tickets.models import Ticket
from tickets.status import phone_masked


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
        *_outage_sheet(figures),
    ]


def _outage_sheet(figures: dict) -> list[Sheet]:
    """The outages of the period; none in reports made before outages were counted."""
    rows = figures.get("outages")
    if rows is None:
        return []
    kinds = dict(Outage.Kind.choices)
    return [
        Sheet(
            _("Outages"),
            [
                _("Kind"),
                _("Title"),
                _("Starts at"),
                _("First ETA"),
                _("Restored at"),
                _("Minutes after the ETA"),
                _("Calls"),
                _("Linked"),
                _("Heard the message"),
                _("Hung up after it"),
                _("Texts queued"),
                _("Texts sent"),
            ],
            [
                [
                    kinds.get(row["kind"], row["kind"]),
                    row["title"],
                    _when(row["starts_at"]),
                    _when(row["first_eta"]),
                    _when(row["restored_at"]) if row["restored_at"] else "",
                    row["late_minutes"],
                    row["calls"],
                    row["linked"],
                    row["played"],
                    row["hung_up_after_message"],
                    row["messages"],
                    row["messages_sent"],
                ]
                for row in rows
            ],
        )
    ]


def weekly_sheets(report: Report) -> list[Sheet]:
    figures = report.figures
    transfers, complaints, volumes = figures["transfers"], figures["complaints"], figures["volumes"]
    summary = [
        [_("12345 transfers"), transfers["received"]],
        [_("12345 transfers closed"), transfers["closed"]],
        [_("Transfers called back in time (%)"), transfers["callbacks"]["share"]],
        [_("Complaints"), complaints["count"]],
        [_("First reply in time (%)"), complaints["first_share"]],
        [_("Final reply in time (%)"), complaints["final_share"]],
        [_("Repairs"), volumes["repair"]],
        [_("Repairs the week before"), volumes["previous"]["repair"]],
        [_("Consults"), volumes["consult"]],
        [_("Consults the week before"), volumes["previous"]["consult"]],
    ]
    return [
        Sheet(_("Summary"), [_("Figure"), _("Value")], summary),
        Sheet(
            _("12345 transfers"),
            [_("Ticket"), _("12345 number"), _("Received"), _("Fault type"), _("State now")],
            (
                [
                    row["number"],
                    row["external_ref"],
                    _when(row["received_at"]),
                    row["fault_type"],
                    row["state"],
                ]
                for row in transfers["rows"]
            ),
        ),
        _complaints_sheet(complaints),
        Sheet(
            _("Repairs and consults"),
            [_("Day"), _("Repairs"), _("Consults")],
            ([row["day"], row["repair"], row["consult"]] for row in volumes["days"]),
        ),
        *_outage_sheet(figures),
        *_remarks_sheets(report),
    ]


def _complaints_sheet(complaints: dict) -> Sheet:
    return Sheet(
        _("Complaints by cause"),
        [
            _("Cause"),
            _("Complaints"),
            _("Share (%)"),
            _("Closed"),
            _("First replies due"),
            _("First replies in time"),
            _("Final replies due"),
            _("Final replies in time"),
        ],
        (
            [
                row["cause"],
                row["count"],
                row["share"],
                row["closed"],
                row["first_counted"],
                row["first_met"],
                row["final_counted"],
                row["final_met"],
            ]
            for row in complaints["by_cause"]
        ),
    )


def _remarks_sheets(report: Report) -> list[Sheet]:
    rows = [
        [label, text]
        for label, text in ((_("Remarks"), report.remarks), (_("Measures"), report.measures))
        if text
    ]
    rows += [
        [_("Target for next month: %(target)s (%%)") % {"target": Target(key).label}, value]
        for key, value in report.targets.items()
    ]
    return [Sheet(_("Review"), [_("Item"), _("Text")], rows)] if rows else []


def monthly_sheets(report: Report) -> list[Sheet]:
    figures = report.figures
    parts, causes = DayPart.LABELS, dict(ExtensionCause.choices)
    targets = figures["targets"]
    response = [_("Tickets"), _("Response deadlines"), _("Missed"), _("Missed (%)")]

    def responses(row: dict) -> list:
        return [row["tickets"], row["responses"], row["missed"], row["missed_share"]]

    compliance = [
        _("Name"),
        _("Deadlines"),
        _("Met (as extended)"),
        _("Share (%)"),
        _("Deadlines (as first set)"),
        _("Met (as first set)"),
        _("Share (%)"),
    ]
    return [
        Sheet(
            _("Targets"),
            [_("Figure"), _("This month (%)"), _("Target (%)")],
            [
                [target.label, figures["actual"][target.value], targets.get(target.value)]
                for target in Target
            ],
        ),
        Sheet(
            _("By time of day"),
            [_("Time of day"), *response],
            ([parts[row["day_part"]], *responses(row)] for row in figures["day_parts"]),
        ),
        Sheet(
            _("Frequent problems"),
            [_("Fault type"), _("District"), _("Time of day"), *response],
            (
                [row["fault"], row["district_name"], parts[row["day_part"]], *responses(row)]
                for row in figures["frequent"]
            ),
        ),
        *(
            Sheet(
                title,
                compliance,
                (
                    [
                        row["name"],
                        row["counted"],
                        row["met"],
                        row["share"],
                        row["original_counted"],
                        row["original_met"],
                        row["original_share"],
                    ]
                    for row in figures["compliance"][key]
                ),
            )
            for key, title in (("crew", _("SLA by crew")), ("district", _("SLA by district")))
        ),
        Sheet(
            _("Extensions by cause"),
            [_("Cause"), _("Requested"), _("Approved"), _("Refused"), _("Pending")],
            (
                [
                    causes.get(row["cause"], row["cause"]),
                    row["requested"],
                    row["approved"],
                    row["refused"],
                    row["pending"],
                ]
                for row in figures["extensions"]
            ),
        ),
        Sheet(
            _("Satisfaction trend"),
            [_("Month"), _("Callbacks done"), _("Satisfaction (%)")],
            ([row["month"], row["done"], row["share"]] for row in figures["satisfaction"]),
        ),
        _complaints_sheet(figures["complaints"]),
        Sheet(
            _("Repeated faults"),
            [_("Community"), _("Building"), _("Unit"), _("Repairs"), _("Latest ticket")],
            (
                [
                    row["community_name"],
                    row["building"],
                    row["unit"],
                    row["repairs"],
                    row["last"],
                ]
                for row in figures["repeat_addresses"]
            ),
        ),
        Sheet(
            _("Accountability"),
            [
                _("Recorded"),
                _("Ticket"),
                _("Held responsible"),
                _("Person"),
                _("Points"),
                _("Reason"),
            ],
            (
                [
                    _when(row["recorded_at"]),
                    row["ticket"],
                    row["party"],
                    row["person"],
                    row["points"],
                    row["reason"],
                ]
                for row in figures["accountability"]["rows"]
            ),
        ),
        *_outage_sheet(figures),
        *_remarks_sheets(report),
    ]


SHEETS = {
    Report.Kind.SHIFT: shift_sheets,
    Report.Kind.DAILY: daily_sheets,
    Report.Kind.WEEKLY: weekly_sheets,
    Report.Kind.MONTHLY: monthly_sheets,
}


def report_filename(report: Report, extension: str) -> str:
    start = timezone.localtime(report.period_start)
    return f"{report.kind}-report-{start:%Y%m%d-%H%M}.{extension}"


def report_title(report: Report) -> str:
    """Return the report's title as its files name it: its kind and period."""
    start = timezone.localtime(report.period_start)
    period = {
        Report.Kind.SHIFT: f"{start:%Y-%m-%d %H:%M}",
        Report.Kind.DAILY: f"{start:%Y-%m-%d}",
        Report.Kind.WEEKLY: f"{start:%Y-%m-%d}",
        Report.Kind.MONTHLY: f"{start:%Y-%m}",
    }[Report.Kind(report.kind)]
    return f"{report.get_kind_display()} {period}"


# The columns of a ticket list's download: (heading, the value's path in ``values_list``).
TICKET_COLUMNS = [
    (gettext_lazy("Ticket"), "number"),
    (gettext_lazy("External reference"), "external_ref"),
    (gettext_lazy("Received"), "received_at"),
    (gettext_lazy("Channel"), "channel"),
    (gettext_lazy("Category"), "category"),
    (gettext_lazy("Grade"), "grade"),
    (gettext_lazy("Fault type"), "fault_type__name"),
    (gettext_lazy("State"), "state"),
    (gettext_lazy("District"), "district__name"),
    (gettext_lazy("Community"), "community__name"),
    (gettext_lazy("Address"), "address"),
    (gettext_lazy("Building"), "building"),
    (gettext_lazy("Unit"), "unit"),
    (gettext_lazy("Room"), "room"),
    (gettext_lazy("Caller name"), "caller_name"),
    (gettext_lazy("Caller phone"), "caller_phone"),
    (gettext_lazy("Crew"), "crew__name"),
    (gettext_lazy("Department"), "department__name"),
    (gettext_lazy("Dispatched"), "dispatched_at"),
    (gettext_lazy("Arrived"), "arrived_at"),
    (gettext_lazy("Closed"), "closed_at"),
]
# Rows read from the database at a time: the export's memory stays this size.
TICKET_CHUNK = 2000


def ticket_sheet(
    tickets: QuerySet[Ticket], *, full_phones: bool = False, on_progress=None
) -> Sheet:
    """Return ``tickets`` as a sheet whose rows are read in chunks as they are written;
    ``on_progress(rows)`` is called after every chunk. Phones are masked unless
    ``full_phones``."""
    labels = {
        "channel": dict(Channel.choices),
        "category": dict(Category.choices),
        "grade": dict(Grade.choices),
        "state": dict(State.choices),
    }
    paths = [path for _heading, path in TICKET_COLUMNS]
    local = timezone.get_current_timezone()

    def cell(path: str, value):
        if isinstance(value, datetime):
            return value.astimezone(local).strftime("%Y-%m-%d %H:%M")
        if path in labels:
            return str(labels[path].get(value, value))
        if hasattr(value, "as_e164"):  # a phone number
            return value.as_e164 if full_phones else phone_masked(value)
        return value

    def rows():
        written = 0
        values = tickets.order_by("received_at", "id").values_list(*paths)
        for written, row in enumerate(values.iterator(chunk_size=TICKET_CHUNK), start=1):
            yield [cell(path, value) for path, value in zip(paths, row, strict=True)]
            if on_progress is not None and written % TICKET_CHUNK == 0:
                on_progress(written)
        if on_progress is not None:
            on_progress(written)

    return Sheet(_("Tickets"), [str(heading) for heading, _path in TICKET_COLUMNS], rows())
