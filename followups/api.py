"""Follow-ups over the API: the working-day calendar, the callback queue and its records."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from followups.models import Callback, CallbackRule
from followups.selectors import callback_for_user, callback_queue
from followups.services import CallbackReport, callback_record
from followups.workdays import Source, calendar_days
from tickets.errors import ApplicationError
from tickets.serializers import ErrorOutput, StrictInput

# A year and a day: a month view, a year's plan, never an open-ended walk.
MAX_CALENDAR_DAYS = 366


class CalendarQuery(serializers.Serializer):
    start = serializers.DateField(help_text="First day, YYYY-MM-DD")
    end = serializers.DateField(help_text="Last day (included), YYYY-MM-DD")

    def validate(self, data: dict) -> dict:
        if data["end"] < data["start"]:
            raise serializers.ValidationError({"end": _("The last day comes before the first.")})
        if data["end"] - data["start"] >= timedelta(days=MAX_CALENDAR_DAYS):
            raise serializers.ValidationError(
                {"end": _("Ask for at most %(days)d days at once.") % {"days": MAX_CALENDAR_DAYS}}
            )
        return data


class CalendarDayOutput(serializers.Serializer):
    date = serializers.DateField(source="day")
    is_working_day = serializers.BooleanField(
        allow_null=True, help_text="null when neither the official calendar nor an override knows"
    )
    source = serializers.ChoiceField(choices=Source.choices)


class CalendarView(APIView):
    """The working-day calendar the product's working-day deadlines count by."""

    @extend_schema(
        summary="Working days from start to end",
        parameters=[CalendarQuery],
        responses={
            200: CalendarDayOutput(many=True),
            400: ErrorOutput,
            401: ErrorOutput,
            403: ErrorOutput,
        },
    )
    def get(self, request: Request) -> Response:
        query = CalendarQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = calendar_days(**query.validated_data)
        return Response(CalendarDayOutput(days, many=True).data)


class CallbackOutput(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.CharField(source="rule.code")
    ticket = serializers.CharField(source="ticket.number", allow_null=True, default=None)
    name = serializers.CharField()
    phone = serializers.CharField()
    state = serializers.ChoiceField(choices=Callback.State.choices)
    callable_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()
    is_second = serializers.BooleanField()
    satisfaction = serializers.ChoiceField(choices=Callback.Satisfaction.choices, allow_blank=True)
    answers = serializers.DictField(child=serializers.CharField())
    unsatisfied_action = serializers.CharField()
    complaint = serializers.CharField(source="complaint.number", allow_null=True, default=None)


class QueueRowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.CharField(source="rule_code")
    ticket = serializers.CharField(source="ticket_number", allow_null=True)
    ticket_state = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    phone = serializers.CharField()
    callable_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    attempts = serializers.IntegerField()
    is_second = serializers.BooleanField()


class CallbackQueueOutput(serializers.Serializer):
    ready = serializers.IntegerField(help_text="Callbacks that may be made now (at most 999)")
    overdue = serializers.IntegerField(help_text="Of those, past their deadline (at most 999)")
    later = serializers.IntegerField(help_text="To try again later, or due another day")
    callbacks = QueueRowOutput(many=True, source="rows", help_text="The earliest deadline first")


class CallbackRecordInput(StrictInput):
    reached = serializers.BooleanField(help_text="Did the customer answer? false: a try")
    method = serializers.ChoiceField(choices=Callback.Method.choices, default=Callback.Method.PHONE)
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=1000),
        required=False,
        help_text="By question code: yes, no or na (text questions take text)",
    )
    process = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    result = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    satisfaction = serializers.ChoiceField(
        choices=Callback.Satisfaction.choices, required=False, allow_blank=True
    )
    comments = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    unsatisfied_action = serializers.ChoiceField(
        choices=CallbackRule.Unsatisfied.choices,
        required=False,
        allow_blank=True,
        help_text="Shift leaders and the supervisor only; else the rule's default",
    )
    responsible_person = serializers.CharField(required=False, allow_blank=True, max_length=60)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)
    attempt = serializers.IntegerField(
        required=False, min_value=0, help_text="The tries the client last read; refused if stale"
    )


class CallbackQueueView(APIView):
    """The callbacks to make now, for an agent's own client or a dialler."""

    @extend_schema(
        summary="The callback queue",
        responses={200: CallbackQueueOutput, 401: ErrorOutput, 403: ErrorOutput},
    )
    def get(self, request: Request) -> Response:
        _require_record(request)
        queue = callback_queue(user=request.user, now=timezone.now())
        return Response(CallbackQueueOutput(queue).data)


class CallbackRecordView(APIView):
    """Record one try at a callback: no answer, or what the customer said."""

    @extend_schema(
        summary="Record a callback",
        request=CallbackRecordInput,
        responses={
            200: CallbackOutput,
            400: ErrorOutput,
            401: ErrorOutput,
            403: ErrorOutput,
            404: ErrorOutput,
            409: OpenApiResponse(ErrorOutput, description="Already recorded, or stale `attempt`"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        _require_record(request)
        callback = callback_for_user(user=request.user, pk=pk).callback
        data = CallbackRecordInput(data=request.data)
        data.is_valid(raise_exception=True)
        recorded = callback_record(
            actor=request.user, callback=callback, report=CallbackReport(**data.validated_data)
        )
        return Response(CallbackOutput(recorded).data)


def _require_record(request: Request) -> None:
    if not request.user.has_perm("followups.record_callback"):
        raise ApplicationError(_("Your role may not do this."), code="forbidden")
