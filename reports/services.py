"""Every write of the reports: computing them, the shift leader's remarks, the approval."""

import io
import logging
import tempfile
from datetime import datetime, timedelta

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_export_requested, audit_report_approved
from callcentre.exports import csv_write, xlsx_write
from reports.exports import ticket_sheet
from reports.models import Export, Report, Target
from reports.monthly import monthly_figures
from reports.periods import (
    Period,
    day_of,
    days_ended,
    month_of,
    months_ended,
    shift_of,
    shifts_ended,
    week_of,
    weeks_ended,
)
from reports.selectors import daily_figures, export_tickets, shift_figures
from reports.weekly import weekly_figures
from tickets.errors import ApplicationError, invalid

logger = logging.getLogger(__name__)

# The beat job makes the reports of the periods that ended this far back, should it have
# been stopped for a while.
CATCH_UP = timedelta(days=2)
FIGURES = {
    Report.Kind.SHIFT: shift_figures,
    Report.Kind.DAILY: daily_figures,
    Report.Kind.WEEKLY: weekly_figures,
    Report.Kind.MONTHLY: monthly_figures,
}
PERIODS_ENDED = {
    Report.Kind.SHIFT: shifts_ended,
    Report.Kind.DAILY: days_ended,
    Report.Kind.WEEKLY: weeks_ended,
    Report.Kind.MONTHLY: months_ended,
}
PERIOD_OF = {
    Report.Kind.SHIFT: shift_of,
    Report.Kind.DAILY: day_of,
    Report.Kind.WEEKLY: week_of,
    Report.Kind.MONTHLY: month_of,
}


def report_generate(*, kind: str, period: Period, now: datetime) -> Report:
    """Compute the report of ``kind`` for ``period``, once per (kind, period).

    A rerun recomputes a report not yet approved, in place; an approved one is frozen and
    is returned as it is.
    """
    try:
        with transaction.atomic():
            Report.objects.get_or_create(
                kind=kind,
                period_start=period.start,
                defaults={"period_end": period.end, "generated_at": now},
            )
    except IntegrityError:
        pass  # another run made it at the same moment; it is recomputed below
    with transaction.atomic():
        report = Report.objects.select_for_update().get(kind=kind, period_start=period.start)
        if report.is_frozen:
            return report
        report.figures = FIGURES[kind](period=period)
        report.generated_at = now
        report.save(update_fields=["figures", "generated_at"])
    return report


def reports_produce(*, now: datetime) -> int:
    """Make the reports of every period that has ended and has none yet; return how many.

    Run by beat every few minutes: a period's report is made soon after it ends, and a
    rerun (or two at once) makes nothing twice.
    """
    made = 0
    for kind, ended in PERIODS_ENDED.items():
        for period in ended(since=now - CATCH_UP, until=now):
            if not Report.objects.filter(kind=kind, period_start=period.start).exists():
                report_generate(kind=kind, period=period, now=now)
                made += 1
    return made


def report_regenerate(*, actor, kind: str, at: datetime, now: datetime) -> Report:
    """Compute again, for the supervisor, the report of the period that contained ``at``."""
    _require(actor, "reports.approve_report")
    if kind not in FIGURES:
        raise invalid({"kind": _("Choose a kind of report.")})
    period = PERIOD_OF[kind](at)
    if period.end > now:
        raise invalid({"at": _("This period has not ended yet; its report comes when it does.")})
    existing = Report.objects.filter(kind=kind, period_start=period.start).first()
    if existing is not None and existing.is_frozen:
        raise ApplicationError(
            _("This report is approved; its figures are kept as they were."), code="conflict"
        )
    return report_generate(kind=kind, period=period, now=now)


def report_submit(*, actor, report: Report, remarks: str, at: datetime) -> Report:
    """The shift leader adds remarks to the shift report and sends it for review."""
    _require(actor, "reports.submit_shift_report")
    with transaction.atomic():
        report = _unfrozen(report)
        if report.kind != Report.Kind.SHIFT:
            raise ApplicationError(
                _("Only a shift report is submitted for review."), code="conflict"
            )
        report.remarks = remarks.strip()
        report.state = Report.State.SUBMITTED
        report.submitted_at = at
        report.submitted_by = actor
        report.save(update_fields=["remarks", "state", "submitted_at", "submitted_by"])
    return report


def report_write(
    *, actor, report: Report, remarks: str, measures: str = "", targets: dict | None = None
) -> Report:
    """The supervisor writes their part of a weekly or monthly report before approving it:
    remarks and, in the monthly report, the measures and next month's targets (in %)."""
    _require(actor, "reports.approve_report")
    targets = {key: value for key, value in (targets or {}).items() if value is not None}
    errors = {
        key: _("Give a percentage from 0 to 100.")
        for key, value in targets.items()
        if key not in Target.values or not 0 <= value <= 100
    }
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        report = _unfrozen(report)
        if report.kind not in (Report.Kind.WEEKLY, Report.Kind.MONTHLY):
            raise ApplicationError(
                _("The supervisor writes only in weekly and monthly reports."), code="conflict"
            )
        report.remarks = remarks.strip()
        if report.kind == Report.Kind.MONTHLY:
            report.measures = measures.strip()
            report.targets = {key: float(value) for key, value in targets.items()}
        report.save(update_fields=["remarks", "measures", "targets"])
    return report


def report_approve(*, actor, report: Report, at: datetime) -> Report:
    """The supervisor approves a report: from now on it is frozen, its figures a snapshot
    that later changes to the data do not alter.

    A shift report is approved once the shift leader has submitted it; the weekly and
    monthly reports are the supervisor's own. The daily report needs no approval.
    """
    _require(actor, "reports.approve_report")
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.is_frozen:
            raise ApplicationError(_("This report is approved already."), code="conflict")
        if not report.is_reviewed:
            raise ApplicationError(_("The daily report needs no approval."), code="conflict")
        if report.kind == Report.Kind.SHIFT and report.state != Report.State.SUBMITTED:
            raise ApplicationError(
                _("The shift leader has not submitted this report yet."), code="conflict"
            )
        report.state = Report.State.APPROVED
        report.approved_at = at
        report.approved_by = actor
        report.save(update_fields=["state", "approved_at", "approved_by"])
        audit_report_approved(actor=actor, report=report)
    return report


def _unfrozen(report: Report) -> Report:
    """Return ``report`` locked for a change, or raise a conflict if it is approved."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.is_frozen:
        raise ApplicationError(
            _("This report is approved already; it can no longer change."), code="conflict"
        )
    return report


def _require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise ApplicationError(_("Your role may not do this."), code="forbidden")


# An export still "being written" this long after it started lost its worker: it is begun
# again (the task's own time limit is shorter).
EXPORT_STALE = timedelta(minutes=35)
# A queued export no worker has taken this long after it was asked for is sent again.
EXPORT_RESEND_AFTER = timedelta(minutes=1)


@transaction.atomic
def export_request(
    *,
    actor,
    query: str,
    file_format: str,
    now: datetime,
    full_phones: bool = False,
    address: str | None = None,
) -> Export:
    """Ask for the tickets of a list (its filters in ``query``) as a file, written by a
    worker; the export page shows its progress. Callers' phones are masked unless
    ``full_phones`` (the supervisor's choice); either way the audit log has it."""
    from reports.tasks import export_run

    _require(actor, "reports.export_tickets")
    if full_phones:
        _require(actor, "reports.export_full_phones")
    if file_format not in Export.Format.values:
        raise invalid({"file_format": _("Choose CSV or xlsx.")})
    if len(query) > Export._meta.get_field("query").max_length:
        raise invalid({"query": _("Too many filters for one export.")})
    export = Export(
        requested_by=actor,
        requested_at=now,
        query=query,
        file_format=file_format,
        full_phones=full_phones,
    )
    export_tickets(export=export)  # raises for filters that are not valid
    export.save()
    audit_export_requested(actor=actor, export=export, address=address)
    transaction.on_commit(lambda: export_run.delay(export.pk), robust=True)
    return export


def export_run(*, export_id: int, now: datetime) -> Export | None:
    """Write an export's file, counting its rows as it goes; None if another worker has it.

    The rows are read in chunks and written straight to a temporary file, so memory stays
    flat however many tickets; the file is then stored and the export marked ready.
    """
    waiting = Q(state=Export.State.QUEUED) | Q(
        state=Export.State.RUNNING, started_at__lt=now - EXPORT_STALE
    )
    claimed = Export.objects.filter(waiting, pk=export_id).update(
        state=Export.State.RUNNING, started_at=now, rows_done=0
    )
    if not claimed:
        return None
    export = Export.objects.select_related("requested_by").get(pk=export_id)
    try:
        tickets = export_tickets(export=export)
        export.rows_total = tickets.count()
        export.save(update_fields=["rows_total"])

        def progress(rows: int) -> None:
            Export.objects.filter(pk=export.pk).update(rows_done=rows)

        sheets = [ticket_sheet(tickets, full_phones=export.full_phones, on_progress=progress)]
        name = f"tickets-{timezone.localtime(export.requested_at):%Y%m%d-%H%M}.{export.file_format}"
        with tempfile.TemporaryFile() as spooled:
            if export.file_format == Export.Format.CSV:
                text = io.TextIOWrapper(spooled, encoding="utf-8", newline="")
                csv_write(text, sheets)
                text.detach()  # flushes, and leaves the file open to be stored
            else:
                xlsx_write(spooled, sheets)
            spooled.seek(0)
            export.file.save(name, File(spooled), save=False)
    except Exception:
        logger.exception("export %s failed", export.pk)
        Export.objects.filter(pk=export.pk).update(
            state=Export.State.FAILED,
            finished_at=timezone.now(),
            error=_("The file could not be written. Ask for it again."),
        )
        raise
    export.refresh_from_db(fields=["rows_done"])
    export.state = Export.State.DONE
    export.finished_at = timezone.now()
    export.save(update_fields=["file", "state", "finished_at"])
    return export


def exports_resume(*, now: datetime) -> int:
    """Send again the exports no worker took (the broker was down) or whose worker died;
    return how many. Run by beat every minute."""
    from reports.tasks import export_run

    stuck = Export.objects.filter(
        Q(state=Export.State.QUEUED, requested_at__lt=now - EXPORT_RESEND_AFTER)
        | Q(state=Export.State.RUNNING, started_at__lt=now - EXPORT_STALE)
    ).values_list("pk", flat=True)
    stuck = list(stuck[:100])
    for pk in stuck:
        export_run.delay(pk)
    return len(stuck)
