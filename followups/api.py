"""The working-day calendar over the API: each day, whether it is worked, and who says so."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from followups.workdays import Source, calendar_days
from tickets.serializers import ErrorOutput

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
