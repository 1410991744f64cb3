from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from tickets.choices import Category, Channel
from tickets.models import ServiceAddress


class Caller(models.Model):
    """Someone who calls the centre, known by their phone number."""

    class CustomerType(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        BUSINESS = "business", _("Business")
        KEY_ACCOUNT = "key_account", _("Key account")
        SPECIAL = "special", _("Special customer")

    phone = PhoneNumberField(_("phone"), unique=True)
    name = models.CharField(_("name"), max_length=60, blank=True)
    customer_type = models.CharField(
        _("customer type"),
        max_length=20,
        choices=CustomerType.choices,
        default=CustomerType.RESIDENTIAL,
    )
    # What the promise read to the caller is said in.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    created_at = models.DateTimeField(_("first known"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["phone"]
        verbose_name = _("caller")
        verbose_name_plural = _("callers")

    def __str__(self) -> str:
        return f"{self.name} {self.phone}".strip()


class CallerAddress(ServiceAddress):
    """A service address a caller has given, offered again on their next call."""

    caller = models.ForeignKey(
        Caller, verbose_name=_("caller"), on_delete=models.CASCADE, related_name="addresses"
    )
    last_used_at = models.DateTimeField(_("last used at"))

    class Meta:
        ordering = ["-last_used_at"]
        verbose_name = _("caller address")
        verbose_name_plural = _("caller addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["caller", "community", "address", "building", "unit", "room"],
                name="calleraddress_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.address_line()


class FaqEntry(models.Model):
    """An entry of the FAQ manual (《用户常见问题解答手册》) agents answer calls from."""

    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    category = models.CharField(_("category"), max_length=60, blank=True)
    keywords = models.CharField(
        _("keywords"), max_length=300, blank=True, help_text=_("Words callers use, by spaces.")
    )
    is_published = models.BooleanField(_("published"), default=True)
    # Derived from the fields above for search (see callcentre.search); never edited by hand.
    search_text = models.TextField(editable=False, default="")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["category", "question"]
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")

    def __str__(self) -> str:
        return self.question

    def save(self, *args, **kwargs) -> None:
        from callcentre.search import search_text

        # A derived column, like a slug: kept in step on every save, admin's included.
        self.search_text = search_text(self.question, self.keywords, self.category, self.answer)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)


class Call(models.Model):
    """One call (or message) to or from the centre, from ringing to its outcome."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Outcome(models.TextChoices):
        TICKET_CREATED = "ticket_created", _("Ticket created")
        ANSWERED = "answered", _("Answered on the call")
        LINKED = "linked", _("Linked to an existing ticket")
        REFERRED = "referred", _("Referred to a department")
        ABANDONED = "abandoned", _("Abandoned")

    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.HOTLINE
    )
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.INBOUND
    )
    # As the switch reports it: may be withheld or not a valid number.
    caller_number = models.CharField(_("caller number"), max_length=32, blank=True)
    caller = models.ForeignKey(
        Caller,
        verbose_name=_("caller"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
    )
    # Unique when present; a call logged by hand has none, so NULL rather than "".
    cti_call_id = models.CharField(  # noqa: DJ001
        _("switch call id"), max_length=64, null=True, blank=True
    )
    ringing_at = models.DateTimeField(_("ringing at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    abandoned = models.BooleanField(_("abandoned"), default=False)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
    )
    faq_entries = models.ManyToManyField(
        FaqEntry, verbose_name=_("FAQ entries used"), related_name="calls", blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    # When the matter the call was about was closed (a linked incident closing, say).
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            models.Index(fields=["caller", "-created_at"], name="call_caller_recent_idx"),
            models.Index(fields=["agent", "-answered_at"], name="call_agent_answered_idx"),
            # The reports count a shift's, a day's and a month's calls.
            models.Index(fields=["created_at"], name="call_created_idx"),
            # The wallboard (its figures and its queue) and the forecast count the calls that
            # rang, by when: read from the index alone.
            models.Index(
                fields=["ringing_at"],
                include=["answered_at", "ended_at", "abandoned"],
                condition=Q(direction="inbound", ringing_at__isnull=False),
                name="call_ringing_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cti_call_id"],
                condition=Q(cti_call_id__isnull=False),
                name="call_unique_cti_call_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.caller_number or '—'} {self.created_at:%Y-%m-%d %H:%M}"


class CtiEvent(models.Model):
    """One event the telephone switch reported; (call id, event) is received once."""

    class Kind(models.TextChoices):
        RINGING = "ringing", _("Ringing")
        ANSWERED = "answered", _("Answered")
        ENDED = "ended", _("Ended")
        ABANDONED = "abandoned", _("Abandoned")
        # The switch played an outage's message before queueing the call (``outage``).
        NOTICE_PLAYED = "notice_played", _("Outage notice played")

    cti_call_id = models.CharField(_("switch call id"), max_length=64)
    event = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    payload = models.JSONField(_("payload"), default=dict)
    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="cti_events"
    )

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("CTI event")
        verbose_name_plural = _("CTI events")
        constraints = [
            models.UniqueConstraint(fields=["cti_call_id", "event"], name="ctievent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.cti_call_id} {self.event}"


class SpecialEvent(models.Model):
    """A line of the special-event ledger (《特殊事件处理台账》): an escalated call."""

    class Kind(models.TextChoices):
        ANGRY_CALLER = "angry_caller", _("Angry caller")
        REPEAT_REPORT = "repeat_report", _("Repeated report")
        MEDIA = "media", _("Media or government attention")
        OTHER = "other", _("Other")

    occurred_at = models.DateTimeField(_("occurred at"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    caller_phone = models.CharField(_("caller phone"), max_length=32, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="special_events",
    )
    description = models.TextField(_("what happened"))
    outcome = models.TextField(_("how it was handled"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("special event")
        verbose_name_plural = _("special events")
        indexes = [models.Index(fields=["-occurred_at"], name="specialevent_recent_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class Open311Partner(models.Model):
    """A partner that files repair requests through Open311 (the WeChat account, the app, the
    city's 12345 hotline), with the API key it sends.

    Only the key's SHA-256 is kept; the key itself is shown once, when the administrator
    issues it. The partner's requests are made in its name by its own user (``user``), an
    agent that never signs in.
    """

    name = models.CharField(_("name"), max_length=80, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("files as"),
        on_delete=models.PROTECT,
        editable=False,
        related_name="open311_partner",
    )
    requests_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        default=60,
        help_text=_("Requests beyond this in a minute are refused with 429 until it passes."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311 partner")
        verbose_name_plural = _("Open311 partners")

    def __str__(self) -> str:
        return self.name


class Open311Service(models.Model):
    """A kind of request Open311 clients may file (``service_code``), and the fault type
    the ticket is made with."""

    code = models.SlugField(_("service code"), max_length=40, unique=True)
    fault_type = models.ForeignKey(
        "tickets.FaultType",
        verbose_name=_("fault type"),
        on_delete=models.PROTECT,
        related_name="open311_services",
    )
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    keywords = models.CharField(
        _("keywords"), max_length=200, blank=True, help_text=_("Separated by commas.")
    )
    group = models.CharField(_("group"), max_length=80, blank=True)
    is_active = models.BooleanField(_("offered"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("Open311 service")
        verbose_name_plural = _("Open311 services")

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class Open311Request(models.Model):
    """A ticket filed through Open311: who filed it and what the client sent beside it."""

    ticket = models.OneToOneField(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        related_name="open311_request",
    )
    partner = models.ForeignKey(
        Open311Partner,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    service = models.ForeignKey(
        Open311Service,
        verbose_name=_("service"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    token = models.UUIDField(_("token"), unique=True, editable=False)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    address_id = models.CharField(_("address ID"), max_length=80, blank=True)
    email = models.EmailField(_("email"), blank=True)
    device_id = models.CharField(_("device ID"), max_length=80, blank=True)
    account_id = models.CharField(_("account ID"), max_length=80, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    requested_at = models.DateTimeField(_("requested at"))

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")
        indexes = [models.Index(fields=["-requested_at"], name="open311request_recent_idx")]

    def __str__(self) -> str:
        return str(self.ticket_id)
