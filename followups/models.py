from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from tickets.choices import Category, Channel, Grade


class WorkingDayOverride(models.Model):
    """A day the centre sets itself: next year's official notice before the calendar package
    has it, or a local holiday. It wins over the package."""

    day = models.DateField(_("day"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    reason = models.CharField(_("reason"), max_length=100)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.reason}"


class Questionnaire(models.TextChoices):
    """The questions a callback asks, by what it follows up."""

    REPAIR = "repair", _("Repair or complaint")
    APPLICATION = "application", _("Connection or transfer (five aspects)")
    ACCOUNT = "account", _("Key or special account")


class CallbackRule(models.Model):
    """Which customers are called back and by when: a table the supervisor edits.

    A rule picks tickets by what happened to them (dispatched, received, closed) and by their
    channel and category, or, for key and special accounts, calls each of them periodically.
    """

    class Trigger(models.TextChoices):
        DISPATCHED = "dispatched", _("After dispatch")
        RECEIVED = "received", _("After receipt")
        CLOSED = "closed", _("After closing")
        PERIODIC = "periodic", _("Every period (key and special accounts)")

    class DayKind(models.TextChoices):
        CALENDAR = "calendar", _("calendar days")
        WORKING = "working", _("working days")

    class Unsatisfied(models.TextChoices):
        REOPEN = "reopen", _("Reopen the ticket")
        COMPLAINT = "complaint", _("Open a complaint ticket")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    is_active = models.BooleanField(_("in use"), default=True)
    trigger = models.CharField(_("when"), max_length=20, choices=Trigger.choices)
    channel = models.CharField(
        _("channel"),
        max_length=20,
        choices=Channel.choices,
        blank=True,
        help_text=_("Only tickets from this channel; empty for every channel."),
    )
    category = models.CharField(
        _("category"),
        max_length=20,
        choices=Category.choices,
        blank=True,
        help_text=_("Only tickets of this category; empty for every category."),
    )
    due_days = models.PositiveSmallIntegerField(
        _("within (days)"),
        default=1,
        help_text=_("1 calendar day: the day after. Periodic rules: days' notice before due."),
    )
    day_kind = models.CharField(
        _("counted in"), max_length=20, choices=DayKind.choices, default=DayKind.WORKING
    )
    period_months = models.PositiveSmallIntegerField(
        _("every (months)"), null=True, blank=True, help_text=_("Periodic rules only.")
    )
    questionnaire = models.CharField(
        _("questions"), max_length=20, choices=Questionnaire.choices, default=Questionnaire.REPAIR
    )
    sampling_percent = models.PositiveSmallIntegerField(
        _("share called back (%)"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("A sample of the matching tickets; a grade or district may have its own."),
    )
    on_unsatisfied = models.CharField(
        _("when not satisfied"),
        max_length=20,
        choices=Unsatisfied.choices,
        default=Unsatisfied.REOPEN,
        help_text=_("The default; the supervisor may choose otherwise on each callback."),
    )
    complaint_fault_type = models.ForeignKey(
        "tickets.FaultType",
        verbose_name=_("fault type of the complaint"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"category": Category.COMPLAINT},
        help_text=_("For the complaint tickets it opens; empty for the first complaint type."),
    )
    deduction_points = models.DecimalField(
        _("deduction (points)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Recorded against whoever is held responsible for an unsatisfied callback."),
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    # How far the batch job has looked at the tickets; it starts a little before next time.
    scanned_through = models.DateTimeField(_("looked at up to"), null=True, editable=False)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("callback rule")
        verbose_name_plural = _("callback rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(sampling_percent__gte=1, sampling_percent__lte=100),
                name="callbackrule_sampling_is_a_share",
            ),
            models.CheckConstraint(
                condition=Q(trigger="periodic", period_months__gte=1)
                | (~Q(trigger="periodic") & Q(period_months__isnull=True)),
                name="callbackrule_period_for_periodic_only",
            ),
            models.CheckConstraint(
                condition=Q(due_days__gte=1), name="callbackrule_due_at_least_a_day"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.trigger == self.Trigger.PERIODIC and not self.period_months:
            raise ValidationError({"period_months": _("A periodic rule needs its period.")})
        if self.trigger != self.Trigger.PERIODIC and self.period_months:
            raise ValidationError({"period_months": _("Only a periodic rule has a period.")})


class CallbackSampling(models.Model):
    """Another share of a rule's tickets for one grade, one district, or both."""

    rule = models.ForeignKey(
        CallbackRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="samplings"
    )
    grade = models.CharField(_("grade"), max_length=20, choices=Grade.choices, blank=True)
    district = models.ForeignKey(
        "dispatch.District",
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    percent = models.PositiveSmallIntegerField(
        _("share called back (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )

    class Meta:
        ordering = ["rule", "grade", "district"]
        verbose_name = _("sampling rate")
        verbose_name_plural = _("sampling rates")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "grade", "district"],
                nulls_distinct=False,
                name="callbacksampling_unique",
            ),
            models.CheckConstraint(
                condition=Q(percent__lte=100), name="callbacksampling_percent_is_a_share"
            ),
            models.CheckConstraint(
                condition=~Q(grade="") | Q(district__isnull=False),
                name="callbacksampling_names_grade_or_district",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.grade} {self.district_id or ''} {self.percent}%"


class Callback(models.Model):
    """One customer to call back (回访), from its scheduling to what they said."""

    class State(models.TextChoices):
        # A second callback waits until the work it will report on is finished.
        WAITING = "waiting", _("Waiting for the work")
        PENDING = "pending", _("To call")
        DONE = "done", _("Done")
        UNREACHABLE = "unreachable", _("Unreachable")
        CANCELLED = "cancelled", _("Cancelled")

    class Method(models.TextChoices):
        PHONE = "phone", _("Phone")
        VISIT = "visit", _("Visit on site")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASICALLY = "basically", _("Basically satisfied")
        UNSATISFIED = "unsatisfied", _("Not satisfied")

    # Read by ticket, customer, state or day, never by rule, complaint or agent: those keys
    # carry no index, so the nightly batch's insert updates fewer.
    rule = models.ForeignKey(
        CallbackRule,
        verbose_name=_("rule"),
        on_delete=models.PROTECT,
        related_name="callbacks",
        db_index=False,
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callbacks",
    )
    # Key and special accounts are called back as customers, not about a ticket.
    caller = models.ForeignKey(
        "callcentre.Caller",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callbacks",
    )
    # The unsatisfied callback this one reports back on.
    follows = models.OneToOneField(
        "self",
        verbose_name=_("second callback of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="second_callback",
    )
    name = models.CharField(_("name"), max_length=60, blank=True)
    phone = PhoneNumberField(_("phone"))
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.PENDING
    )
    # Not called before this (the day after, or the next try); due by the other.
    callable_at = models.DateTimeField(_("call from"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    method = models.CharField(_("how"), max_length=10, choices=Method.choices, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    process = models.TextField(_("how the work went"), blank=True)
    result = models.TextField(_("result"), blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=20, choices=Satisfaction.choices, blank=True
    )
    comments = models.TextField(_("comments"), blank=True)
    unsatisfied_action = models.CharField(
        _("done about it"), max_length=20, choices=CallbackRule.Unsatisfied.choices, blank=True
    )
    complaint = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("complaint ticket"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        permissions = [
            ("record_callback", _("Can call customers back and record what they said")),
            ("decide_unsatisfied", _("Can choose what is done about an unsatisfied callback")),
            ("view_callback_lists", _("Can read and export the daily callback lists")),
        ]
        indexes = [
            # The workbench's queue: what is still to call, by its deadline.
            models.Index(
                fields=["due_at", "id"],
                condition=Q(state="pending"),
                name="callback_queue_idx",
            ),
            # What is still to call but not yet: tomorrow's, and the next tries.
            models.Index(
                fields=["callable_at"],
                condition=Q(state="pending"),
                name="callback_later_idx",
            ),
            # The day's register: what was done, by when.
            models.Index(fields=["done_at"], name="callback_done_at_idx"),
            # The customer's earlier callbacks, beside the one being made.
            models.Index(fields=["phone", "-created_at"], name="callback_phone_idx"),
        ]
        constraints = [
            # A rule calls a ticket's customer back once; a second callback follows it.
            models.UniqueConstraint(
                fields=["ticket", "rule"],
                condition=Q(follows__isnull=True, ticket__isnull=False),
                name="callback_once_per_ticket_and_rule",
            ),
            models.UniqueConstraint(
                fields=["caller", "rule"],
                condition=Q(state__in=["waiting", "pending"], caller__isnull=False),
                name="callback_one_open_per_account",
            ),
            models.CheckConstraint(
                condition=Q(ticket__isnull=False) | Q(caller__isnull=False),
                name="callback_has_ticket_or_customer",
            ),
            models.CheckConstraint(
                condition=Q(state="waiting") | Q(due_at__isnull=False, callable_at__isnull=False),
                name="callback_scheduled_unless_waiting",
            ),
            models.CheckConstraint(
                condition=~Q(state="done") | ~Q(satisfaction=""),
                name="callback_done_has_satisfaction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.phone} {self.get_state_display()}"

    @property
    def is_second(self) -> bool:
        return self.follows_id is not None


class CallbackAttempt(models.Model):
    """One try at reaching the customer."""

    callback = models.ForeignKey(
        Callback, verbose_name=_("callback"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    reached = models.BooleanField(_("reached"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("callback attempt")
        verbose_name_plural = _("callback attempts")

    def __str__(self) -> str:
        return f"{self.callback_id} {self.at:%Y-%m-%d %H:%M}"


class Accountability(models.Model):
    """Who is held responsible for an unsatisfied customer, and the deduction recorded."""

    callback = models.OneToOneField(
        Callback,
        verbose_name=_("callback"),
        on_delete=models.PROTECT,
        related_name="accountability",
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "dispatch.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    crew = models.ForeignKey(
        "dispatch.Crew",
        verbose_name=_("crew"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    person = models.CharField(_("person"), max_length=60, blank=True)
    deduction_points = models.DecimalField(
        _("deduction (points)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal(0))],
    )
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("accountability record")
        verbose_name_plural = _("accountability records")
        indexes = [models.Index(fields=["recorded_at"], name="accountability_recorded_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False) | Q(crew__isnull=False) | ~Q(person=""),
                name="accountability_names_someone",
            ),
            models.CheckConstraint(
                condition=Q(deduction_points__gte=0), name="accountability_deduction_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crew or self.department or self.person} −{self.deduction_points}"


class Complaint(models.Model):
    """A complaint ticket's two reply deadlines: the first answer and the final one."""

    ticket = models.OneToOneField(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="complaint",
    )
    first_reply_due = models.DateTimeField(_("first reply due"))
    first_replied_at = models.DateTimeField(_("first replied at"), null=True, blank=True)
    first_replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("first replied by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    first_reply = models.TextField(_("first reply"), blank=True)
    # Set when the department (or the crew) answers: one working day from then.
    final_reply_due = models.DateTimeField(_("final reply due"), null=True, blank=True)
    final_replied_at = models.DateTimeField(_("final replied at"), null=True, blank=True)

    class Meta:
        ordering = ["first_reply_due"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [
            models.Index(
                fields=["first_reply_due"],
                condition=Q(first_replied_at__isnull=True),
                name="complaint_first_reply_idx",
            ),
            models.Index(
                fields=["final_reply_due"],
                condition=Q(final_replied_at__isnull=True, final_reply_due__isnull=False),
                name="complaint_final_reply_idx",
            ),
        ]

    def __str__(self) -> str:
        return str(self.ticket_id)
