"""Outage notices (计划停水, 停热, 停电) and major incidents, and the area each covers."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Outage(models.Model):
    """A stoppage callers are told of before they ask: planned and published ahead, or an
    incident declared from a ticket. It covers districts, communities and buildings."""

    class Kind(models.TextChoices):
        PLANNED = "planned", _("Planned outage")
        INCIDENT = "incident", _("Major incident")

    class Supply(models.TextChoices):
        WATER = "water", _("Water")
        HEATING = "heating", _("Heating")
        POWER = "power", _("Power")

    class State(models.TextChoices):
        PUBLISHED = "published", _("Published")
        RESTORED = "restored", _("Supply restored")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    supply = models.CharField(_("supply"), max_length=20, choices=Supply.choices)
    title = models.CharField(_("title"), max_length=120)
    reason = models.CharField(_("reason"), max_length=300)
    # Read to callers by the agent and the switch, and sent to customers by SMS.
    customer_text = models.TextField(_("text for customers"), max_length=400)
    starts_at = models.DateTimeField(_("starts at"))
    expected_end_at = models.DateTimeField(_("expected restoration"))
    districts = models.ManyToManyField(
        "dispatch.District", verbose_name=_("districts"), blank=True, related_name="+"
    )
    communities = models.ManyToManyField(
        "dispatch.Community", verbose_name=_("communities"), blank=True, related_name="+"
    )
    # The incident's ticket: the parent of the calls and tickets linked to it.
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outages",
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.PUBLISHED
    )
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Water rules ask for 24 h of notice before a planned stoppage.
    is_late = models.BooleanField(_("published late"), default=False)
    late_reason = models.CharField(_("why it is late"), max_length=300, blank=True)
    # Each change customers are told of is a new revision; their SMS is sent once per revision.
    revision = models.PositiveIntegerField(_("revision"), default=1)
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("restored by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        permissions = [
            ("publish_late_outage", _("Can publish a planned outage with less than 24 h notice")),
            ("declare_incident", _("Can declare a major incident from any ticket")),
        ]
        indexes = [
            models.Index(
                fields=["expected_end_at"],
                name="outage_published_idx",
                condition=Q(state="published"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_end_at__gt=models.F("starts_at")),
                name="outage_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class OutageBuilding(models.Model):
    """One building of a community an outage covers (a main in one street, say)."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="buildings")
    community = models.ForeignKey(
        "dispatch.Community", verbose_name=_("community"), on_delete=models.PROTECT
    )
    building = models.CharField(_("building"), max_length=20)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [
            models.UniqueConstraint(
                fields=["outage", "community", "building"], name="outagebuilding_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.building}"


class OutageChange(models.Model):
    """What changed in an outage, when and by whom: publishing, a new ETA, restoring."""

    class Action(models.TextChoices):
        PUBLISHED = "published", _("Published")
        CHANGED = "changed", _("Changed")
        RESTORED = "restored", _("Supply restored")
        CANCELLED = "cancelled", _("Cancelled")

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    revision = models.PositiveIntegerField(_("revision"))
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    # The fields that changed, old and new: {"expected_end_at": ["…", "…"]}.
    data = models.JSONField(_("data"), default=dict, blank=True)
    # How many customers were sent a message of it, once its fan-out has run.
    notified = models.PositiveIntegerField(_("customers notified"), default=0)
    notified_at = models.DateTimeField(_("customers notified at"), null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("outage change")
        verbose_name_plural = _("outage changes")

    def __str__(self) -> str:
        return f"{self.outage} {self.action} {self.at:%Y-%m-%d %H:%M}"


class PlanStep(models.Model):
    """One step of the emergency plan (应急预案) for incidents of a fault type; steps with
    no fault type are in every plan."""

    fault_type = models.ForeignKey(
        "tickets.FaultType",
        verbose_name=_("fault type"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: a step of every incident's plan."),
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    text = models.CharField(_("step"), max_length=200)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("emergency plan step")
        verbose_name_plural = _("emergency plan steps")

    def __str__(self) -> str:
        return self.text


class IncidentStep(models.Model):
    """A step of the plan as an incident follows it: ticked with who and when."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField(_("order"))
    text = models.CharField(_("step"), max_length=200)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("incident step")
        verbose_name_plural = _("incident steps")

    def __str__(self) -> str:
        return self.text


class OutagePlay(models.Model):
    """The switch played an outage's message to a call before queueing it; the call then
    says whether the caller hung up or waited for an agent."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="plays")
    call = models.ForeignKey(
        "callcentre.Call", verbose_name=_("call"), on_delete=models.CASCADE, related_name="+"
    )
    played_at = models.DateTimeField(_("played at"))

    class Meta:
        verbose_name = _("notice played")
        verbose_name_plural = _("notices played")
        constraints = [
            models.UniqueConstraint(fields=["outage", "call"], name="outageplay_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.outage} → {self.call_id}"
