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
