from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from phonenumber_field.modelfields import PhoneNumberField

from tickets.choices import (
    OPEN_STATES,
    Category,
    Channel,
    ExtensionCause,
    ExtensionState,
    Grade,
    Milestone,
    Returned,
    State,
)
from tickets.milestones import MILESTONES


class Skill(models.Model):
    """A kind of work a crew can do (pipe repair, meter work, …)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        ordering = ["code"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self) -> str:
        return self.name


class FaultType(models.Model):
    """A fault the centre recognises, its default urgency grade and the skill it needs."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, default=Category.REPAIR
    )
    default_grade = models.CharField(_("default grade"), max_length=20, choices=Grade.choices)
    skill = models.ForeignKey(
        Skill,
        verbose_name=_("skill needed"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fault_types",
    )
    is_active = models.BooleanField(_("in use"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("fault type")
        verbose_name_plural = _("fault types")

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Time limits of one grade, in minutes after the ticket's receipt; empty means not used."""

    grade = models.CharField(_("grade"), max_length=20, choices=Grade.choices, unique=True)
    dispatch_minutes = models.PositiveIntegerField(
        _("dispatched within (min)"),
        help_text=_("Handed to a crew, or to the responsible department for a consult."),
    )
    accept_minutes = models.PositiveIntegerField(
        _("accepted by the crew within (min)"), null=True, blank=True
    )
    arrive_minutes = models.PositiveIntegerField(
        _("crew on site within (min)"), null=True, blank=True
    )
    mitigate_minutes = models.PositiveIntegerField(
        _("water stopped within (min)"), null=True, blank=True
    )
    resolve_minutes = models.PositiveIntegerField(_("repaired within (min)"), null=True, blank=True)
    close_minutes = models.PositiveIntegerField(
        _("closed within (min)"),
        null=True,
        blank=True,
        help_text=_("A ticket not closed by then raises the overdue alarm."),
    )
    backfill_minutes = models.PositiveIntegerField(
        _("closed within (min) of completion"),
        null=True,
        blank=True,
        help_text=_(
            "The dispatcher reviews the repair report and closes the ticket this soon after "
            "the crew completes it."
        ),
    )

    warning_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the time)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("A deadline warns once this share of its time has gone."),
    )
    escalate_after_minutes = models.PositiveIntegerField(
        _("escalate after (min)"),
        default=30,
        validators=[MinValueValidator(1)],
        help_text=_(
            "A deadline still missed this long after it passed goes up to the shift leader "
            "(a follow-up's to the supervisor)."
        ),
    )

    class Meta:
        ordering = ["grade"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(accept_minutes__isnull=True)
                | Q(accept_minutes__gte=models.F("dispatch_minutes")),
                name="slapolicy_accept_after_dispatch",
            ),
            models.CheckConstraint(
                condition=Q(arrive_minutes__isnull=True)
                | Q(accept_minutes__isnull=True)
                | Q(arrive_minutes__gte=models.F("accept_minutes")),
                name="slapolicy_arrive_after_accept",
            ),
            models.CheckConstraint(
                condition=Q(warning_percent__gte=1, warning_percent__lte=99),
                name="slapolicy_warning_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_grade_display())

    def minutes_for(self, milestone: Milestone) -> int | None:
        return getattr(self, f"{milestone.value}_minutes")


class ServiceAddress(models.Model):
    """Where a fault is: the community (小区), the written address, building, unit, room.

    Tickets and the addresses callers have given share these fields and their reading.
    """

    community = models.ForeignKey(
        "dispatch.Community",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    address = models.CharField(_("address"), max_length=200)
    building = models.CharField(_("building"), max_length=20, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    room = models.CharField(_("room"), max_length=20, blank=True)

    class Meta:
        abstract = True

    def address_line(self) -> str:
        """Return the address as staff read it: community, address, building, unit, room."""
        return address_line(
            community=str(self.community or ""),
            address=self.address,
            building=self.building,
            unit=self.unit,
            room=self.room,
        )


def address_line(
    *, community: str, address: str, building: str, unit: str, room: str, translate=gettext
) -> str:
    """Return an address as staff read it, from its parts (the community by name).

    ``translate`` is gettext, or a page's cached copy of it for a list of many addresses.
    """
    # Callers often give the community as the address; it is not said twice.
    parts = [community, address]
    if community and address.startswith(community):
        parts = [address]
    if building:
        parts.append(translate(gettext_noop("bldg %(building)s")) % {"building": building})
    if unit:
        parts.append(translate(gettext_noop("unit %(unit)s")) % {"unit": unit})
    if room:
        parts.append(translate(gettext_noop("room %(room)s")) % {"room": room})
    return " ".join(part for part in parts if part)


# The dispatcher's board lists each of these states ordered by the deadline its tickets work
# towards. Once on site, every grade is ordered by the close deadline: an emergency's repair
# has no deadline of its own, and its earlier close deadline puts it first.
LANE_ORDER = {
    State.NEW: "dispatch_due",
    State.VERIFIED: "dispatch_due",
    State.DISPATCHED: "accept_due",
    State.ACCEPTED: "arrive_due",
    State.ON_SITE: "close_due",
    State.MITIGATED: "close_due",
    State.RESOLVED: "close_due",
}


def _lane_index(state: State) -> models.Index:
    # Only the tickets in the state are in it: small, and touched by one write in a ticket's life.
    return models.Index(
        fields=[LANE_ORDER[state], "id"],
        condition=Q(state=state),
        name=f"ticket_lane_{state.value}_idx",
    )


def _milestone_index(milestone: Milestone) -> models.Index:
    spec = MILESTONES[milestone]
    # Rows without the deadline stay out, so no milestone's index can pass for another's.
    return models.Index(
        fields=[spec.due_field],
        condition=Q(state__in=spec.pending_states, **{f"{spec.due_field}__isnull": False}),
        name=f"ticket_{milestone.value}_overdue_idx",
    )


class Ticket(ConcurrentTransitionMixin, ServiceAddress):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    fault_type = models.ForeignKey(
        FaultType, verbose_name=_("fault type"), on_delete=models.PROTECT, related_name="tickets"
    )
    grade = models.CharField(_("grade"), max_length=20, choices=Grade.choices)
    description = models.TextField(_("description"))
    caller_name = models.CharField(_("caller name"), max_length=60)
    caller_phone = PhoneNumberField(_("caller phone"))
    # Searched through the (district, state) index below; the same for crew.
    district = models.ForeignKey(
        "dispatch.District",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,
    )
    external_ref = models.CharField(_("external reference"), max_length=60, blank=True)
    pipe_diameter = models.PositiveIntegerField(
        _("pipe diameter (DN)"),
        null=True,
        blank=True,
        help_text=_("Where the caller or the agent knows it: crews repair pipes up to a size."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("incident"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    state = FSMField(
        _("state"), max_length=20, choices=State.choices, default=State.NEW, protected=True
    )

    received_at = models.DateTimeField(_("received at"))
    # Deadlines run from here: the receipt time, or the time a closed ticket was reopened.
    sla_started_at = models.DateTimeField(_("SLA clock started at"))
    dispatch_due = models.DateTimeField(_("dispatch due"), null=True, blank=True)
    accept_due = models.DateTimeField(_("accept due"), null=True, blank=True)
    arrive_due = models.DateTimeField(_("arrive due"), null=True, blank=True)
    mitigate_due = models.DateTimeField(_("water stop due"), null=True, blank=True)
    resolve_due = models.DateTimeField(_("resolve due"), null=True, blank=True)
    close_due = models.DateTimeField(_("close due"), null=True, blank=True)
    followup_due = models.DateTimeField(_("callback due"), null=True, blank=True)

    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    mitigated_at = models.DateTimeField(_("water stopped at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    crew = models.ForeignKey(
        "dispatch.Crew",
        verbose_name=_("crew"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,
    )
    # Why the ticket came back to the dispatcher from a crew; cleared by the next dispatch.
    returned = models.CharField(
        _("returned by the crew"), max_length=20, choices=Returned.choices, blank=True, default=""
    )
    department = models.ForeignKey(
        "dispatch.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    repair_measures = models.TextField(_("measures taken"), blank=True)
    repair_parts = models.TextField(_("parts replaced"), blank=True)
    repair_cost = models.DecimalField(
        _("cost (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    resolution = models.TextField(_("answer or result"), blank=True)
    delay_responsible = models.CharField(_("responsible for the delay"), max_length=100, blank=True)
    # A special ticket (特殊工单) goes to the supervisor's review: a repeat complaint, say.
    is_special = models.BooleanField(_("special"), default=False)
    # The shift leader's re-check of what the agent recorded (address, fault, grade).
    reviewed_at = models.DateTimeField(_("re-checked at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("re-checked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="ticket_received_idx"),
            models.Index(fields=["state", "grade"], name="ticket_state_grade_idx"),
            # A caller's history, newest first, read without sorting however long it is.
            models.Index(fields=["caller_phone", "-received_at"], name="ticket_caller_recent_idx"),
            models.Index(fields=["crew", "state"], name="ticket_crew_state_idx"),
            models.Index(fields=["district", "state"], name="ticket_district_state_idx"),
            models.Index(fields=["closed_at"], name="ticket_closed_at_idx"),
            # The callback rules read what was dispatched since they last looked.
            models.Index(fields=["dispatched_at"], name="ticket_dispatched_at_idx"),
            models.Index(
                fields=["community", "building", "unit", "-received_at"],
                name="ticket_address_idx",
            ),
            *(_milestone_index(milestone) for milestone in Milestone),
            *(_lane_index(state) for state in LANE_ORDER),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state=State.MERGED) | Q(parent__isnull=False),
                name="ticket_merged_has_parent",
            ),
            models.CheckConstraint(
                condition=Q(repair_cost__isnull=True) | Q(repair_cost__gte=0),
                name="ticket_repair_cost_not_negative",
            ),
        ]
        permissions = [
            ("view_all_tickets", _("Can see every ticket")),
            ("view_crew_tickets", _("Can see the tickets of their own crew")),
            ("view_department_tickets", _("Can see the tickets referred to their department")),
            ("verify_ticket", _("Can verify a ticket")),
            ("dispatch_ticket", _("Can dispatch a ticket to a crew")),
            ("refer_ticket", _("Can refer a ticket to a department")),
            ("refer_on_intake", _("Can refer a question to its department from the call")),
            ("accept_ticket", _("Can accept a dispatched ticket")),
            ("decline_ticket", _("Can decline a dispatched ticket")),
            ("arrive_ticket", _("Can report arrival on site")),
            ("mitigate_ticket", _("Can report the water stopped")),
            ("resolve_ticket", _("Can resolve a ticket with a repair report")),
            ("answer_ticket", _("Can answer a referred ticket")),
            ("close_ticket", _("Can close a ticket")),
            ("cancel_ticket", _("Can cancel a ticket")),
            ("merge_ticket", _("Can merge a ticket into an incident")),
            ("reopen_ticket", _("Can reopen a closed ticket")),
            ("reclassify_ticket", _("Can change a ticket's grade")),
            ("review_ticket", _("Can re-check and correct what an agent recorded")),
            ("request_extension", _("Can request a deadline extension")),
            ("approve_extension", _("Can approve an extension with an objective cause")),
            ("approve_human_extension", _("Can approve an extension with a human cause")),
        ]

    def __str__(self) -> str:
        return self.number

    @classmethod
    def transition_permission(cls, name: str) -> str:
        """Return the permission that the transition ``name`` declares."""
        transitions = getattr(cls, name)._django_fsm.transitions.values()
        return next(iter(transitions)).permission

    # Conditions: pure checks on the row's own fields.

    def is_not_consult(self) -> bool:
        return self.grade != Grade.CONSULT

    def is_for_a_department(self) -> bool:
        return self.grade == Grade.CONSULT or self.category != Category.REPAIR

    def is_emergency(self) -> bool:
        return self.grade == Grade.EMERGENCY

    def has_repair_report(self) -> bool:
        return bool(self.repair_measures.strip())

    def has_answer(self) -> bool:
        return bool(self.resolution.strip())

    def has_results(self) -> bool:
        if self.crew_id is not None:
            return self.has_repair_report() and self.repair_cost is not None
        return self.has_answer()

    # Transitions: only services call them, inside a transaction, followed by save().

    @transition(state, source=State.NEW, target=State.VERIFIED, permission="tickets.verify_ticket")
    def verify(self, *, at):
        self.verified_at = at

    @transition(
        state,
        source=State.VERIFIED,
        target=State.DISPATCHED,
        conditions=[is_not_consult],
        permission="tickets.dispatch_ticket",
    )
    def dispatch(self, *, crew, at):
        self.crew = crew
        self.dispatched_at = at
        self.returned = ""

    @transition(
        state, source=State.VERIFIED, target=State.REFERRED, permission="tickets.refer_ticket"
    )
    def refer(self, *, department, at):
        self.department = department
        self.dispatched_at = at

    # The agent hands a question for a department straight to it from the call.
    @transition(
        state,
        source=State.NEW,
        target=State.REFERRED,
        conditions=[is_for_a_department],
        permission="tickets.refer_on_intake",
    )
    def refer_on_intake(self, *, department, at):
        self.verified_at = at
        self.department = department
        self.dispatched_at = at

    @transition(
        state, source=State.DISPATCHED, target=State.ACCEPTED, permission="tickets.accept_ticket"
    )
    def accept(self, *, at):
        self.accepted_at = at

    @transition(
        state, source=State.DISPATCHED, target=State.VERIFIED, permission="tickets.decline_ticket"
    )
    def decline(self, *, at, returned=Returned.DECLINED):
        self.crew = None
        self.dispatched_at = None
        self.returned = returned

    @transition(
        state, source=State.ACCEPTED, target=State.ON_SITE, permission="tickets.arrive_ticket"
    )
    def arrive(self, *, at):
        self.arrived_at = at

    @transition(
        state,
        source=State.ON_SITE,
        target=State.MITIGATED,
        conditions=[is_emergency],
        permission="tickets.mitigate_ticket",
    )
    def mitigate(self, *, at):
        self.mitigated_at = at

    @transition(
        state,
        source=[State.ON_SITE, State.MITIGATED],
        target=State.RESOLVED,
        conditions=[has_repair_report],
        permission="tickets.resolve_ticket",
    )
    def resolve(self, *, at):
        self.resolved_at = at

    @transition(
        state,
        source=State.REFERRED,
        target=State.RESOLVED,
        conditions=[has_answer],
        permission="tickets.answer_ticket",
    )
    def answer(self, *, at):
        self.resolved_at = at

    @transition(
        state,
        source=State.RESOLVED,
        target=State.CLOSED,
        conditions=[has_results],
        permission="tickets.close_ticket",
    )
    def close(self, *, at):
        self.closed_at = at

    @transition(
        state, source=OPEN_STATES, target=State.CANCELLED, permission="tickets.cancel_ticket"
    )
    def cancel(self, *, at):
        self.cancelled_at = at

    @transition(
        state,
        source=[State.NEW, State.VERIFIED],
        target=State.MERGED,
        permission="tickets.merge_ticket",
    )
    def merge(self, *, parent, at):
        self.parent = parent

    @transition(
        state, source=State.CLOSED, target=State.VERIFIED, permission="tickets.reopen_ticket"
    )
    def reopen(self, *, at):
        self.sla_started_at = at
        self.verified_at = at
        for field in ("dispatched_at", "accepted_at", "arrived_at", "mitigated_at"):
            setattr(self, field, None)
        self.resolved_at = None
        self.closed_at = None
        self.crew = None
        self.department = None


class TicketEvent(models.Model):
    """One line of a ticket's audit trail; rows are only ever added."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        VERIFIED = "verified", _("Verified")
        DISPATCHED = "dispatched", _("Dispatched")
        REFERRED = "referred", _("Referred")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        NOT_ACCEPTED = "not_accepted", _("Not accepted in time")
        ARRIVED = "arrived", _("Arrived on site")
        MITIGATED = "mitigated", _("Water stopped")
        RESOLVED = "resolved", _("Resolved")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")
        MERGED = "merged", _("Merged into an incident")
        REOPENED = "reopened", _("Reopened")
        RECLASSIFIED = "reclassified", _("Grade changed")
        CORRECTED = "corrected", _("Corrected")
        REVIEWED = "reviewed", _("Re-checked")
        EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
        EXTENSION_APPROVED = "extension_approved", _("Extension approved")
        EXTENSION_REFUSED = "extension_refused", _("Extension refused")
        PHOTO_ADDED = "photo_added", _("Photo added")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    from_state = models.CharField(_("from"), max_length=20, choices=State.choices)
    to_state = models.CharField(_("to"), max_length=20, choices=State.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [models.Index(fields=["ticket", "at"], name="ticketevent_ticket_at_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class ExtensionRequest(models.Model):
    """A request to move one deadline; the deadline moves only once it is approved."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="extensions"
    )
    milestone = models.CharField(_("milestone"), max_length=20, choices=Milestone.choices)
    cause = models.CharField(_("cause"), max_length=20, choices=ExtensionCause.choices)
    reason = models.TextField(_("reason"))
    responsible_party = models.CharField(_("responsible party"), max_length=100, blank=True)
    original_due = models.DateTimeField(_("deadline before"))
    requested_due = models.DateTimeField(_("deadline asked for"))
    state = models.CharField(
        _("state"), max_length=20, choices=ExtensionState.choices, default=ExtensionState.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        indexes = [
            # The monthly report reads the extensions asked for in the month, and those
            # approved since it began.
            models.Index(fields=["requested_at"], name="extension_requested_idx"),
            models.Index(
                fields=["decided_at"],
                condition=Q(state=ExtensionState.APPROVED),
                name="extension_approved_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_due__gt=models.F("original_due")),
                name="extension_moves_deadline_later",
            ),
            models.CheckConstraint(
                condition=~Q(cause=ExtensionCause.HUMAN) | ~Q(responsible_party=""),
                name="extension_human_names_responsible",
            ),
            # One open request per milestone: a second waits until the first is decided.
            models.UniqueConstraint(
                fields=["ticket", "milestone"],
                condition=Q(state=ExtensionState.PENDING),
                name="extension_one_pending_per_milestone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.milestone} → {self.requested_due:%Y-%m-%d %H:%M}"


class RepairPart(models.Model):
    """A part the crew fitted, with its quantity, as the repair report lists it."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="parts"
    )
    name = models.CharField(_("part"), max_length=100)
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=10, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("part fitted")
        verbose_name_plural = _("parts fitted")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="repairpart_quantity_positive")
        ]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity:g}{self.unit}"


class RepairCost(models.Model):
    """One line of the repair's cost; the ticket's cost is their sum."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="costs"
    )
    item = models.CharField(_("item"), max_length=100)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["id"]
        verbose_name = _("cost line")
        verbose_name_plural = _("cost lines")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="repaircost_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.amount}"


def _photo_path(photo: "RepairPhoto", filename: str) -> str:
    # The name the phone sent is never used: it may hold a path or a misleading extension.
    return f"photos/{photo.uploaded_at:%Y/%m}/{photo.key}.{photo.extension}"


class RepairPhoto(models.Model):
    """A photo the crew took on site; served only to those who may see the ticket."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="photos"
    )
    key = models.UUIDField(_("key"), unique=True, editable=False)
    image = models.FileField(_("image"), upload_to=_photo_path, max_length=200)
    extension = models.CharField(_("file type"), max_length=5)
    content_type = models.CharField(_("content type"), max_length=30)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("repair photo")
        verbose_name_plural = _("repair photos")

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.key}"


class ActionReceipt(models.Model):
    """A submitted action, kept by its key so that a retried submission does not act twice."""

    key = models.UUIDField(_("key"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="+"
    )
    action = models.CharField(_("action"), max_length=30)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("action receipt")
        verbose_name_plural = _("action receipts")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="actionreceipt_unique_key")
        ]
        indexes = [models.Index(fields=["at"], name="actionreceipt_at_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.key}"


class TicketSequence(models.Model):
    """The last ticket number handed out on a day (local date)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ticket number sequence")
        verbose_name_plural = _("ticket number sequences")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"
