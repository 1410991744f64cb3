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

    class Meta:
        ordering = ["code"]
        verbose_name = _("crew")
        verbose_name_plural = _("crews")

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
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


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
