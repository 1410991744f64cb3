"""Reports: one row per (kind, period), its figures kept as they were computed."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Target(models.TextChoices):
    """What the supervisor sets a monthly target for, each a percentage."""

    COMPLETION = "completion", _("Completion rate")
    SLA = "sla", _("SLA compliance")
    SATISFACTION = "satisfaction", _("Satisfaction")


class Report(models.Model):
    """A report of one period: the figures the beat job computed, and what people added.

    Until it is approved a rerun recomputes the figures in place; once approved they are
    frozen, and later changes to the data do not alter them.
    """

    class Kind(models.TextChoices):
        SHIFT = "shift", _("Shift report")
        # Read at the morning meeting: yesterday's figures.
        DAILY = "daily", _("Daily report")
        # 12345 transfers, complaints by cause, repair and consult volumes.
        WEEKLY = "weekly", _("Weekly report")
        # The service-quality improvement report (服务质量改进报告).
        MONTHLY = "monthly", _("Monthly quality report")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for review")
        APPROVED = "approved", _("Approved")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    period_start = models.DateTimeField(_("from"))
    period_end = models.DateTimeField(_("until"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    figures = models.JSONField(_("figures"), default=dict)
    generated_at = models.DateTimeField(_("computed at"))
    remarks = models.TextField(_("remarks"), blank=True)
    # The supervisor's part of the monthly report: what is to be done about what it found,
    # and the targets for the next month (percentages by ``Target``).
    measures = models.TextField(_("measures"), blank=True)
    targets = models.JSONField(_("targets"), default=dict, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["kind", "-period_start"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(fields=["kind", "period_start"], name="report_once"),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")), name="report_period_forward"
            ),
            models.CheckConstraint(
                condition=~Q(state="approved") | Q(approved_at__isnull=False),
                name="report_approved_has_time",
            ),
        ]
        permissions = [
            ("view_reports", _("Can read the reports")),
            ("submit_shift_report", _("Can add remarks to a shift report and submit it")),
            ("approve_report", _("Can review and approve reports, and compute them again")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start:%Y-%m-%d %H:%M}"

    @property
    def is_reviewed(self) -> bool:
        """Whether the supervisor reviews and approves this kind (the daily report is read
        at the morning meeting and needs no approval)."""
        return self.kind != self.Kind.DAILY

    @property
    def is_frozen(self) -> bool:
        return self.state == self.State.APPROVED


class Export(models.Model):
    """A large download made in the background: the tickets of a list, as CSV or xlsx.

    A Celery worker writes the file row by row (memory stays flat however many) and counts
    the rows it has written, which the page shows as progress.
    """

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "xlsx"

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Being written")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    # The ticket list's filters, as the list page's query string.
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    file_format = models.CharField(_("format"), max_length=10, choices=Format.choices)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Callers' phones in full (the supervisor's choice, written to the audit log); masked
    # otherwise.
    full_phones = models.BooleanField(_("full phone numbers"), default=False)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [
            models.Index(fields=["requested_by", "-requested_at"], name="export_requester_idx"),
            models.Index(
                fields=["requested_at"],
                condition=Q(state__in=["queued", "running"]),
                name="export_waiting_idx",
            ),
        ]
        permissions = [
            ("export_tickets", _("Can download ticket lists as files")),
            ("export_full_phones", _("Can download files with callers' full phone numbers")),
        ]

    def __str__(self) -> str:
        return f"{self.requested_by} {self.requested_at:%Y-%m-%d %H:%M} {self.file_format}"

    @property
    def is_waiting(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return 100 if self.state == self.State.DONE else None
        return min(100, round(100 * self.rows_done / self.rows_total))
