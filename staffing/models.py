from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from staffing.roles import Role
from tickets.names import full_name


class User(AbstractUser):
    """A person who signs in: centre staff, crew members and department staff."""

    phone = PhoneNumberField(_("mobile phone"), blank=True)
    # The telephone extension the switch reports for this agent's seat.
    extension = models.CharField(_("extension"), max_length=16, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        return full_name(self.first_name, self.last_name)

    @property
    def display_name(self) -> str:
        return str(self)

    def roles(self) -> list[Role]:
        """Return the user's roles in order of precedence (cached for the request)."""
        if not hasattr(self, "_roles_cache"):
            names = {group.name for group in self.groups.all()}
            self._roles_cache = [role for role in Role if role.value in names]
        return self._roles_cache

    @property
    def primary_role(self) -> Role | None:
        roles = self.roles()
        if roles:
            return roles[0]
        return Role.ADMIN if self.is_superuser else None


class AgentStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    ON_CALL = "on_call", _("On a call")
    AFTER_CALL_WORK = "after_call_work", _("After-call work")
    BREAK = "break", _("Break")
    TRAINING = "training", _("Training")
    OFFLINE = "offline", _("Offline")


class Seat(models.Model):
    """A desk with a telephone (坐席): its extension, and whether it is a floating seat.

    A floating seat stays switched off until the shift leader switches it on at a peak;
    nobody can sign into a seat that is switched off.
    """

    label = models.CharField(_("seat"), max_length=32, unique=True)
    extension = models.CharField(_("extension"), max_length=16, unique=True)
    floating = models.BooleanField(_("floating seat"), default=False)
    switched_on = models.BooleanField(_("switched on"), default=True)

    class Meta:
        ordering = ["floating", "label"]
        verbose_name = _("seat")
        verbose_name_plural = _("seats")
        permissions = [
            ("view_wallboard", _("Can watch the wallboard")),
            ("switch_seat", _("Can switch floating seats on and off")),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.extension})"


class SeatSession(models.Model):
    """An agent signed into a seat, from sign-in to sign-out."""

    seat = models.ForeignKey(
        Seat, verbose_name=_("seat"), on_delete=models.PROTECT, related_name="sessions"
    )
    agent = models.ForeignKey(
        User, verbose_name=_("agent"), on_delete=models.PROTECT, related_name="seat_sessions"
    )
    signed_in_at = models.DateTimeField(_("signed in at"))
    signed_out_at = models.DateTimeField(_("signed out at"), null=True, blank=True)

    class Meta:
        ordering = ["-signed_in_at", "-id"]
        verbose_name = _("seat session")
        verbose_name_plural = _("seat sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["seat"],
                condition=models.Q(signed_out_at__isnull=True),
                name="seatsession_one_agent_per_seat",
            ),
            models.UniqueConstraint(
                fields=["agent"],
                condition=models.Q(signed_out_at__isnull=True),
                name="seatsession_one_seat_per_agent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} @ {self.seat.label}"


class StatusSpell(models.Model):
    """One spell of an agent in one status; the open spell (no end yet) is the status now."""

    class Source(models.TextChoices):
        CONSOLE = "console", _("Console")
        CTI = "cti", _("Telephone switch")
        SEAT = "seat", _("Seat sign-in or sign-out")

    agent = models.ForeignKey(
        User, verbose_name=_("agent"), on_delete=models.PROTECT, related_name="status_spells"
    )
    status = models.CharField(_("status"), max_length=20, choices=AgentStatus.choices)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    source = models.CharField(_("changed by"), max_length=10, choices=Source.choices)
    seat = models.ForeignKey(
        Seat,
        verbose_name=_("seat"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # On a call: the call, and the status the agent returns to when it ends.
    call = models.ForeignKey(
        "callcentre.Call",
        verbose_name=_("call"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resume_status = models.CharField(
        _("status after the call"), max_length=20, choices=AgentStatus.choices, blank=True
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("status spell")
        verbose_name_plural = _("status history")
        indexes = [
            models.Index(fields=["agent", "-started_at"], name="statusspell_agent_recent_idx"),
            # The wallboard counts the open spells by status.
            models.Index(
                fields=["status"],
                condition=models.Q(ended_at__isnull=True),
                name="statusspell_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["agent"],
                condition=models.Q(ended_at__isnull=True),
                name="statusspell_one_open_per_agent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.status} {self.started_at:%H:%M}"


class ShiftTemplate(models.Model):
    """A shift's times (day 08:00–20:00, night 20:00–08:00); a shift ending at or before
    its start ends the next day.

    The starts of the handover shifts are the centre's shift changes: the shift report and
    a complaint's first-reply deadline follow them. A peak shift for floating agents is not
    a handover.
    """

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=40)
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))
    handover = models.BooleanField(
        _("shift handover"),
        default=True,
        help_text=_("The shift leader hands over and the shift report is written at its start."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["starts_at", "code"]
        verbose_name = _("shift template")
        verbose_name_plural = _("shift templates")

    def __str__(self) -> str:
        return f"{self.name} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class RosterRole(models.TextChoices):
    AGENT = "agent", _("Seat agent")
    FLOATING_AGENT = "floating_agent", _("Floating agent")
    SHIFT_LEADER = "shift_leader", _("Shift leader")
    DISPATCHER = "dispatcher", _("Dispatcher")
    SUPERVISOR = "supervisor", _("Supervisor")
    QUALITY_MONITOR = "quality_monitor", _("Quality monitor")
    TRAINER = "trainer", _("Trainer")


class RosterEntry(models.Model):
    """One person on one shift of one day in one role, with their break and attendance."""

    day = models.DateField(_("day"))
    shift = models.ForeignKey(
        ShiftTemplate, verbose_name=_("shift"), on_delete=models.PROTECT, related_name="entries"
    )
    person = models.ForeignKey(
        User, verbose_name=_("person"), on_delete=models.PROTECT, related_name="roster_entries"
    )
    role = models.CharField(_("role"), max_length=20, choices=RosterRole.choices)
    break_starts_at = models.TimeField(_("break starts at"), null=True, blank=True)
    break_minutes = models.PositiveSmallIntegerField(_("break (minutes)"), default=0)
    signed_in_at = models.DateTimeField(_("signed in at"), null=True, blank=True)
    signed_out_at = models.DateTimeField(_("signed out at"), null=True, blank=True)

    class Meta:
        ordering = ["day", "shift__starts_at", "role", "person__username"]
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster")
        permissions = [("plan_staffing", _("Can plan rosters and read the staffing plan"))]
        indexes = [models.Index(fields=["person", "day"], name="roster_person_day_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "shift", "person"], name="roster_once_per_shift"
            ),
            models.CheckConstraint(
                condition=models.Q(break_minutes__lte=240), name="roster_break_at_most_4h"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.shift.code} {self.person}"


# The service levels the wallboard counts: the government hotline standard's 15 s, or 20 s.
SERVICE_LEVEL_SECONDS = (15, 20)


class StaffingSettings(models.Model):
    """The centre's one row of staffing settings: targets, planning inputs, attendance."""

    service_level_seconds = models.PositiveSmallIntegerField(
        _("service level within (seconds)"),
        default=15,
        choices=[(seconds, str(seconds)) for seconds in SERVICE_LEVEL_SECONDS],
        help_text=_("The wallboard's service level counts calls answered this quickly."),
    )
    target_service_level = models.DecimalField(
        _("target service level"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.800"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("0.999"))],
    )
    target_seconds = models.PositiveSmallIntegerField(_("target answer time (s)"), default=20)
    aht_seconds = models.PositiveSmallIntegerField(
        _("planned handle time (s)"),
        default=180,
        validators=[MinValueValidator(1)],
        help_text=_("Used for planning when the history has too few answered calls."),
    )
    max_occupancy = models.DecimalField(
        _("maximum occupancy"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.850"),
        validators=[MinValueValidator(Decimal("0.05")), MaxValueValidator(1)],
    )
    shrinkage = models.DecimalField(
        _("shrinkage"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.300"),
        validators=[MinValueValidator(0), MaxValueValidator(Decimal("0.9"))],
        help_text=_(
            "Share of rostered time off the phones besides the rostered breaks: absence, "
            "meetings, coaching."
        ),
    )
    patience_seconds = models.PositiveIntegerField(
        _("average patience (s)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
        help_text=_("When set, the plan allows for callers hanging up (Erlang A)."),
    )
    late_after_minutes = models.PositiveSmallIntegerField(_("late after (minutes)"), default=5)
    absent_after_minutes = models.PositiveSmallIntegerField(_("absent after (minutes)"), default=30)

    class Meta:
        verbose_name = _("staffing settings")
        verbose_name_plural = _("staffing settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="staffingsettings_one_row"),
        ]

    def __str__(self) -> str:
        return str(_("Staffing settings"))


class WallboardThreshold(models.Model):
    """Where a wallboard figure turns amber and red."""

    class Figure(models.TextChoices):
        CALLS_WAITING = "calls_waiting", _("Calls waiting")
        LONGEST_WAIT = "longest_wait", _("Longest wait (s)")
        ANSWER_RATE = "answer_rate", _("Answer rate (%)")
        SERVICE_LEVEL = "service_level", _("Service level (%)")
        ASA = "asa", _("Average speed of answer (s)")
        AHT = "aht", _("Average handle time (s)")

    # Figures where less is worse: they turn amber below the amber line.
    LOW_IS_BAD = frozenset({Figure.ANSWER_RATE, Figure.SERVICE_LEVEL})

    figure = models.CharField(_("figure"), max_length=20, choices=Figure.choices, unique=True)
    amber = models.DecimalField(_("amber at"), max_digits=8, decimal_places=1)
    red = models.DecimalField(_("red at"), max_digits=8, decimal_places=1)

    class Meta:
        ordering = ["figure"]
        verbose_name = _("wallboard threshold")
        verbose_name_plural = _("wallboard thresholds")

    def __str__(self) -> str:
        return self.get_figure_display()

    def clean(self) -> None:
        if self.amber is None or self.red is None:
            return
        worse = self.red < self.amber if self.figure in self.LOW_IS_BAD else self.red > self.amber
        if not worse and self.red != self.amber:
            raise ValidationError({"red": _("Red must be on the worse side of amber.")})


class IntervalForecast(models.Model):
    """The calls expected in one 30-minute interval, as forecast before its day began."""

    starts_at = models.DateTimeField(_("interval starts at"), unique=True)
    calls = models.FloatField(_("calls forecast"))
    made_at = models.DateTimeField(_("forecast at"))

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("interval forecast")
        verbose_name_plural = _("interval forecasts")

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.calls:.1f}"


class ForecastAccuracy(models.Model):
    """How well a day was forecast (1 − MAPE over its 30-minute intervals) and scheduled."""

    day = models.DateField(_("day"), unique=True)
    forecast_calls = models.FloatField(_("calls forecast"))
    actual_calls = models.PositiveIntegerField(_("calls offered"))
    mape = models.FloatField(_("mean absolute percentage error"))
    intervals = models.PositiveSmallIntegerField(_("intervals counted"))
    # max(0, 1 − Σ|rostered − required| / Σ required) over the intervals that needed agents
    # (``staffing.planning``); None where nothing was required.
    schedule_accuracy = models.FloatField(_("schedule accuracy"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["-day"]
        verbose_name = _("forecast accuracy")
        verbose_name_plural = _("forecast accuracy")

    def __str__(self) -> str:
        return f"{self.day} {self.accuracy:.1%}"

    @property
    def accuracy(self) -> float:
        """1 − MAPE, never below nothing."""
        return max(0.0, 1.0 - self.mape)
