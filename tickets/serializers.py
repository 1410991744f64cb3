"""The API's input and output shapes for tickets; inputs refuse fields they do not know."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from tickets.choices import (
    INTAKE_CHANNELS,
    Category,
    Channel,
    ExtensionCause,
    ExtensionState,
    Grade,
    Milestone,
    State,
)
from tickets.milestones import MILESTONES
from tickets.models import FaultType, Ticket, TicketEvent
from tickets.reference import reference_get
from tickets.selectors import ticket_next_deadline
from tickets.services import CostLine, PartLine


class StrictInput(serializers.Serializer):
    """An input that names every field a client may send and refuses the rest.

    Fields a client must not set (state, number, deadlines, who created it) are refused
    with a 400 that names them, so a mistaken client learns at once and nothing is applied.
    """

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send a JSON object.")]}, code="invalid"
            )
        unknown = sorted(set(data) - set(self.fields))
        errors = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            errors = dict(error.detail)
        for name in unknown:
            errors[name] = [_("This field cannot be set.")]
        if errors:
            raise serializers.ValidationError(errors)
        return value


def _text(max_length: int, *, required: bool = True, **kwargs) -> serializers.CharField:
    # DRF's CharField trims whitespace and refuses NUL characters, which PostgreSQL cannot store.
    if required:
        return serializers.CharField(max_length=max_length, **kwargs)
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, default="", **kwargs
    )


class _SlugField(serializers.SlugRelatedField):
    """A row by its code; no code holds a NUL character, and PostgreSQL would refuse to look
    one up, so such a value is simply not found."""

    def to_internal_value(self, data):
        if "\x00" in str(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))
        return super().to_internal_value(data)


class _ReferenceSlugField(serializers.SlugRelatedField):
    """A slug field that finds its row through the reference cache."""

    def to_internal_value(self, data):
        row = None if "\x00" in str(data) else reference_get(self.get_queryset(), str(data))
        if row is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))
        return row


class _ReferencePrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A primary-key field that finds its row through the reference cache."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not str(data).isdigit():
            self.fail("incorrect_type", data_type=type(data).__name__)
        row = reference_get(self.get_queryset(), int(data))
        if row is None:
            self.fail("does_not_exist", pk_value=data)
        return row


def _related(field: str):
    """Return the model a ticket field points to (districts and crews live in dispatch)."""
    return Ticket._meta.get_field(field).related_model


class TicketCreateInput(StrictInput):
    channel = serializers.ChoiceField(choices=INTAKE_CHANNELS)
    category = serializers.ChoiceField(choices=Category.choices)
    fault_type = _ReferenceSlugField(slug_field="code", queryset=FaultType.objects.all())
    grade = serializers.ChoiceField(
        choices=Grade.choices,
        required=False,
        help_text="Defaults to the fault type's grade.",
    )
    description = _text(4000)
    caller_name = _text(60)
    caller_phone = PhoneNumberField(region="CN")
    address = _text(200)
    building = _text(20, required=False)
    unit = _text(20, required=False)
    room = _text(20, required=False)
    district = _SlugField(
        slug_field="code",
        queryset=_related("district").objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )
    community = _ReferencePrimaryKeyField(
        queryset=_related("community").objects.select_related("district"),
        required=False,
        allow_null=True,
        default=None,
    )
    external_ref = _text(60, required=False)
    pipe_diameter = serializers.IntegerField(
        min_value=10,
        max_value=4000,
        required=False,
        allow_null=True,
        default=None,
        help_text="The pipe's nominal diameter (DN), where known.",
    )
    grade_reason = _text(300, required=False)


class NoteInput(StrictInput):
    note = _text(1000, required=False)


class ReasonInput(StrictInput):
    reason = _text(1000)


class DispatchInput(StrictInput):
    crew = _SlugField(slug_field="code", queryset=_related("crew").objects.all())
    note = _text(1000, required=False)


class ReferInput(StrictInput):
    department = _SlugField(
        slug_field="code",
        queryset=_related("department").objects.filter(is_active=True),
    )
    note = _text(1000, required=False)


_COST = {"max_digits": 10, "decimal_places": 2, "min_value": 0}


class PartLineInput(StrictInput):
    name = _text(100)
    quantity = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=Decimal("0.01"))
    unit = _text(10, required=False)


class CostLineInput(StrictInput):
    item = _text(100)
    amount = serializers.DecimalField(**_COST)


class ResolveInput(StrictInput):
    measures = _text(4000)
    parts = _text(1000, required=False, help_text="Other parts or notes, as free text.")
    cost = serializers.DecimalField(
        **_COST,
        required=False,
        allow_null=True,
        default=None,
        help_text="The total; leave it out when cost lines are given (it is their sum).",
    )
    part_lines = PartLineInput(many=True, required=False, default=list)
    cost_lines = CostLineInput(many=True, required=False, default=list)

    def validate(self, attrs: dict) -> dict:
        attrs["part_lines"] = [PartLine(**line) for line in attrs.get("part_lines", [])]
        attrs["cost_lines"] = [CostLine(**line) for line in attrs.get("cost_lines", [])]
        return attrs


class AnswerInput(StrictInput):
    answer = _text(4000)


class CloseInput(StrictInput):
    measures = serializers.CharField(max_length=4000, required=False)
    parts = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    cost = serializers.DecimalField(**_COST, required=False)
    result = serializers.CharField(max_length=4000, required=False)


class MergeInput(StrictInput):
    parent = serializers.CharField(max_length=20, help_text="The incident ticket's number.")
    reason = _text(1000, required=False)


class ReclassifyInput(StrictInput):
    grade = serializers.ChoiceField(choices=Grade.choices)
    reason = _text(1000)


class ExtensionRequestInput(StrictInput):
    milestone = serializers.ChoiceField(choices=Milestone.choices)
    requested_due = serializers.DateTimeField()
    cause = serializers.ChoiceField(choices=ExtensionCause.choices)
    reason = _text(1000)
    responsible_party = _text(100, required=False)


class ExtensionDecisionInput(StrictInput):
    extension = serializers.IntegerField(min_value=1)
    approve = serializers.BooleanField(default=True)
    note = _text(1000, required=False)


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    state = serializers.CharField(required=False, help_text="The ticket's current state (409).")


class _Named(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class _CommunityOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _NextDeadlineOutput(serializers.Serializer):
    milestone = serializers.ChoiceField(choices=Milestone.choices)
    due = serializers.DateTimeField()


class _DeadlinesOutput(serializers.Serializer):
    dispatch = serializers.DateTimeField(allow_null=True)
    accept = serializers.DateTimeField(allow_null=True)
    arrive = serializers.DateTimeField(allow_null=True)
    mitigate = serializers.DateTimeField(allow_null=True)
    resolve = serializers.DateTimeField(allow_null=True)
    close = serializers.DateTimeField(allow_null=True)


_DATETIME = serializers.DateTimeField()


def _time(value):
    return None if value is None else _DATETIME.to_representation(value)


# Outputs are plain serializers with every field declared: ModelSerializer would rebuild its
# fields from the model on every response, which was a fifth of the cost of logging a ticket.
class TicketOutput(serializers.Serializer):
    number = serializers.CharField()
    state = serializers.ChoiceField(choices=State.choices)
    state_display = serializers.CharField(source="get_state_display")
    channel = serializers.ChoiceField(choices=Channel.choices)
    category = serializers.ChoiceField(choices=Category.choices)
    fault_type = _Named()
    grade = serializers.ChoiceField(choices=Grade.choices)
    grade_display = serializers.CharField(source="get_grade_display")
    description = serializers.CharField()
    caller_name = serializers.CharField()
    caller_phone = serializers.CharField(source="caller_phone.as_e164")
    address = serializers.CharField()
    building = serializers.CharField()
    unit = serializers.CharField()
    room = serializers.CharField()
    district = _Named(allow_null=True)
    community = _CommunityOutput(allow_null=True)
    external_ref = serializers.CharField()
    pipe_diameter = serializers.IntegerField(allow_null=True)
    parent = serializers.CharField(source="parent.number", allow_null=True)
    received_at = serializers.DateTimeField()
    deadlines = serializers.SerializerMethodField()
    next_deadline = serializers.SerializerMethodField()
    verified_at = serializers.DateTimeField(allow_null=True)
    dispatched_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)
    mitigated_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    crew = _Named(allow_null=True)
    returned = serializers.CharField(
        help_text="Why the ticket came back from its crew: declined, not_accepted, or empty."
    )
    department = _Named(allow_null=True)
    repair_measures = serializers.CharField()
    repair_parts = serializers.CharField()
    repair_cost = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    resolution = serializers.CharField()
    delay_responsible = serializers.CharField()
    is_special = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(_DeadlinesOutput)
    def get_deadlines(self, ticket: Ticket) -> dict[str, str | None]:
        return {
            milestone.value: _time(getattr(ticket, spec.due_field))
            for milestone, spec in MILESTONES.items()
        }

    @extend_schema_field(_NextDeadlineOutput(allow_null=True))
    def get_next_deadline(self, ticket: Ticket) -> dict | None:
        upcoming = ticket_next_deadline(ticket)
        if upcoming is None:
            return None
        milestone, due = upcoming
        return {"milestone": milestone.value, "due": _time(due)}


class TicketEventOutput(serializers.Serializer):
    action = serializers.ChoiceField(choices=TicketEvent.Action.choices)
    from_state = serializers.ChoiceField(choices=State.choices)
    to_state = serializers.ChoiceField(choices=State.choices)
    actor = serializers.CharField(source="actor.username", allow_null=True)
    at = serializers.DateTimeField()
    reason = serializers.CharField()
    data = serializers.JSONField()


class ExtensionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    milestone = serializers.ChoiceField(choices=Milestone.choices)
    cause = serializers.ChoiceField(choices=ExtensionCause.choices)
    reason = serializers.CharField()
    responsible_party = serializers.CharField()
    original_due = serializers.DateTimeField()
    requested_due = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=ExtensionState.choices)
    requested_by = serializers.CharField(source="requested_by.username")
    requested_at = serializers.DateTimeField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()


class PhotoUploadInput(serializers.Serializer):
    photos = serializers.ListField(child=serializers.FileField(), help_text="One or more images.")


class RepairPartOutput(serializers.Serializer):
    name = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=8, decimal_places=2)
    unit = serializers.CharField()


class RepairCostOutput(serializers.Serializer):
    item = serializers.CharField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)


class RepairPhotoOutput(serializers.Serializer):
    key = serializers.UUIDField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField(
        help_text="Where the image is read, with the same auth."
    )

    def get_url(self, photo) -> str:
        return f"/api/v1/tickets/{photo.ticket.number}/photos/{photo.key}/"


class TicketDetailOutput(TicketOutput):
    events = TicketEventOutput(many=True, source="timeline")
    extensions = ExtensionOutput(many=True, source="extension_list")
    parts = RepairPartOutput(many=True, source="part_list")
    costs = RepairCostOutput(many=True, source="cost_list")
    photos = RepairPhotoOutput(many=True, source="photo_list")
