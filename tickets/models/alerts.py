"""Alerts on deadlines: each raised once by the overdue sweep, then acknowledged by a person."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.choices import AlertLevel, AlertMilestone, ExtensionCause, Grade


class Alert(models.Model):
    """One level of alarm on one deadline of a ticket.

    The key is (ticket, milestone, level) for the deadline in force: a deadline moved by an
    approved extension or a reopened ticket is a new deadline, watched afresh.
    """

    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        related_name="alerts",
        db_index=False,  # the unique key starts with it
    )
    milestone = models.CharField(_("milestone"), max_length=30, choices=AlertMilestone.choices)
    level = models.CharField(_("level"), max_length=20, choices=AlertLevel.choices)
    due_at = models.DateTimeField(_("deadline"))
    raised_at = models.DateTimeField(_("raised at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # Why a deadline was missed, recorded by the dispatcher on the breach.
    delay_cause = models.CharField(
        _("cause of the delay"), max_length=20, choices=ExtensionCause.choices, blank=True
    )
    delay_responsible = models.CharField(_("responsible for the delay"), max_length=100, blank=True)
    delay_note = models.TextField(_("what happened"), blank=True)
    delay_recorded_at = models.DateTimeField(_("cause recorded at"), null=True, blank=True)
    delay_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cause recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "milestone", "level", "due_at"], name="alert_once"
            ),
            models.CheckConstraint(
                condition=~Q(delay_cause=ExtensionCause.HUMAN) | ~Q(delay_responsible=""),
                name="alert_human_delay_names_someone",
            ),
        ]
        indexes = [
            # The notification area: the newest first.
            models.Index(fields=["-raised_at", "-id"], name="alert_raised_idx"),
            # The supervisor's list of delays someone caused.
            models.Index(
                fields=["-delay_recorded_at"],
                condition=Q(delay_cause=ExtensionCause.HUMAN),
                name="alert_human_delay_idx",
            ),
        ]
        permissions = [
            ("receive_ticket_alerts", _("Receives the warnings and breaches of ticket deadlines")),
            (
                "receive_escalations",
                _("Receives escalated ticket alerts and the follow-up desk's alerts"),
            ),
            ("receive_alarms", _("Receives overdue alarms and escalated follow-up alerts")),
            ("record_delay_cause", _("Can record why a deadline was missed")),
            ("view_delays", _("Can read the delays with a human cause")),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.milestone} {self.level}"


class AlertCursor(models.Model):
    """How far the sweep has looked for one (milestone, level): its watermark."""

    milestone = models.CharField(_("milestone"), max_length=30, choices=AlertMilestone.choices)
    level = models.CharField(_("level"), max_length=20, choices=AlertLevel.choices)
    scanned_through = models.DateTimeField(_("scanned through"))

    class Meta:
        verbose_name = _("alert sweep position")
        verbose_name_plural = _("alert sweep positions")
        constraints = [
            models.UniqueConstraint(fields=["milestone", "level"], name="alertcursor_once"),
        ]

    def __str__(self) -> str:
        return f"{self.milestone} {self.level} {self.scanned_through:%Y-%m-%d %H:%M}"


class AlertSmsRule(models.Model):
    """Which alerts also go out by text message to the people who receive them."""

    level = models.CharField(_("level"), max_length=20, choices=AlertLevel.choices)
    milestone = models.CharField(
        _("milestone"),
        max_length=30,
        choices=AlertMilestone.choices,
        blank=True,
        help_text=_("Empty for every milestone."),
    )
    grade = models.CharField(
        _("grade"),
        max_length=20,
        choices=Grade.choices,
        blank=True,
        help_text=_("Empty for every grade."),
    )
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["level", "milestone", "grade"]
        verbose_name = _("alert text-message rule")
        verbose_name_plural = _("alert text-message rules")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "milestone", "grade"], name="alertsmsrule_once"
            ),
        ]

    def __str__(self) -> str:
        return " · ".join(
            str(part)
            for part in (
                self.get_level_display(),
                self.get_milestone_display() or _("every milestone"),
                self.get_grade_display() or _("every grade"),
            )
        )

    def matches(self, *, level: str, milestone: str, grade: str) -> bool:
        return (
            self.is_active
            and self.level == level
            and self.milestone in ("", milestone)
            and self.grade in ("", grade)
        )
