"""Every write of the reports: computing them, the shift leader's remarks, the approval."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from reports.models import Report, Target
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
from reports.selectors import daily_figures, shift_figures
from reports.weekly import weekly_figures
from tickets.errors import ApplicationError, invalid

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
