from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class District(models.Model):
    """A repair district (片区) of the service territory."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    """A residential community (小区) in a district, with its position."""

    district = models.ForeignKey(
        District, verbose_name=_("district"), on_delete=models.PROTECT, related_name="communities"
    )
    name = models.CharField(_("name"), max_length=80)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )

    class Meta:
        ordering = ["district", "name"]
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="community_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Shift(models.TextChoices):
    DAY = "day", _("Day shift")
    NIGHT = "night", _("Night shift")
    ROUND_THE_CLOCK = "round_the_clock", _("Round the clock")


class Crew(models.Model):
    """A repair crew (维修队) of the network department."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    districts = models.ManyToManyField(
        District, verbose_name=_("districts covered"), related_name="crews", blank=True
    )
    skills = models.ManyToManyField(
        "tickets.Skill", verbose_name=_("skills"), related_name="crews", blank=True
    )
    max_pipe_diameter = models.PositiveIntegerField(
        _("largest pipe repaired (DN)"), null=True, blank=True
    )
    is_active = models.BooleanField(_("in service"), default=True)
    shift = models.CharField(_("shift"), max_length=20, choices=Shift.choices, default=Shift.DAY)
    is_on_duty = models.BooleanField(_("on duty"), default=False)
    duty_changed_at = models.DateTimeField(_("duty changed at"), null=True, blank=True)
    last_latitude = models.DecimalField(
        _("last latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    last_longitude = models.DecimalField(
        _("last longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    last_position_at = models.DateTimeField(_("position reported at"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("crew")
        verbose_name_plural = _("crews")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_latitude__isnull=True, last_longitude__isnull=True)
                | Q(last_latitude__range=(-90, 90), last_longitude__range=(-180, 180)),
                name="crew_position_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_led_by(self, user) -> bool:
        return self.memberships.filter(user=user, is_leader=True).exists()


class CrewMembership(models.Model):
    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="crew_memberships",
    )
    is_leader = models.BooleanField(_("crew leader"), default=False)

    class Meta:
        verbose_name = _("crew member")
        verbose_name_plural = _("crew members")
        constraints = [
            models.UniqueConstraint(fields=["crew", "user"], name="crewmembership_unique"),
            models.UniqueConstraint(
                fields=["crew"], condition=Q(is_leader=True), name="crewmembership_one_leader"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crew} · {self.user}"


class Department(models.Model):
    """A department that receives referred work (管网部, 水质检测中心, 抄收, …)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        related_name="departments",
        blank=True,
    )
    time_limit_hours = models.PositiveIntegerField(
        _("time limit (hours)"),
        default=24,
        help_text=_("A referred ticket is answered within this many hours of the referral."),
    )
    time_limit_working_days = models.PositiveSmallIntegerField(
        _("time limit (working days)"),
        null=True,
        blank=True,
        help_text=_(
            "When set, a referred ticket is answered by the end of the working day this many "
            "working days after the referral, and the hours are not used."
        ),
    )
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """One dispatch of a ticket to a crew and how it ended: the ticket's history of crews."""

    class Outcome(models.TextChoices):
        WAITING = "waiting", _("Waiting for the crew")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        NOT_ACCEPTED = "not_accepted", _("Not accepted in time")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.PROTECT, related_name="assignments"
    )
    # A dispatch after a crew declined or let the time pass.
    is_redispatch = models.BooleanField(_("re-dispatch"), default=False)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dispatched by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    dispatched_at = models.DateTimeField(_("dispatched at"))
    # The crew accepts by then, or the ticket goes back to the board.
    respond_by = models.DateTimeField(_("accept by"))
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.WAITING
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["dispatched_at", "id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [
            models.Index(fields=["ticket", "dispatched_at"], name="assignment_ticket_idx"),
            # The sweep for crews that did not answer reads only the waiting ones.
            models.Index(
                fields=["respond_by"],
                condition=Q(outcome="waiting"),
                name="assignment_waiting_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(outcome="waiting"), name="assignment_one_waiting"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.crew_id} ({self.outcome})"


class UnclosedPlan(models.Model):
    """The dispatcher's note on a ticket still open at the end of a day: why, and what next."""

    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        related_name="unclosed_plans",
    )
    day = models.DateField(_("day"))
    reason = models.TextField(_("why it is still open"))
    plan = models.TextField(_("follow-up plan"))
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    written_at = models.DateTimeField(_("written at"))

    class Meta:
        ordering = ["day", "ticket"]
        verbose_name = _("unclosed ticket plan")
        verbose_name_plural = _("unclosed ticket plans")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "day"], name="unclosedplan_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.ticket_id}"


class SmsRecord(models.Model):
    """A message the database gateway took: for the demo and for tests, like a phone's inbox."""

    to_phone = models.CharField(_("to"), max_length=32)
    body = models.TextField(_("text"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("text message sent")
        verbose_name_plural = _("text messages sent")

    def __str__(self) -> str:
        return f"{self.to_phone} {self.sent_at:%Y-%m-%d %H:%M}"


class OutboundMessage(models.Model):
    """A text message to a customer, kept until the gateway has taken it (the outbox)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    to_phone = models.CharField(_("to"), max_length=32)
    body = models.TextField(_("text"))
    kind = models.CharField(_("kind"), max_length=40)
    # One message per reason: a rerun or a second worker cannot send it twice.
    dedupe_key = models.CharField(_("dedupe key"), max_length=120, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="outbound_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to_phone} {self.kind}"
