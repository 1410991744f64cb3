"""Alerts over the API: the alerts meant for the caller, acknowledging one, recording a cause."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets import services
from tickets.choices import AlertLevel, AlertMilestone, ExtensionCause
from tickets.selectors import alert_get_for_user, alerts_for_user
from tickets.serializers import ErrorOutput, StrictInput


class AlertOutput(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = serializers.CharField(source="ticket.number")
    milestone = serializers.ChoiceField(choices=AlertMilestone.choices)
    level = serializers.ChoiceField(choices=AlertLevel.choices)
    due_at = serializers.DateTimeField()
    raised_at = serializers.DateTimeField()
    is_standing = serializers.BooleanField(
        help_text="The deadline is still ahead of its row: not met, not moved"
    )
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", allow_null=True, default=None
    )
    delay_cause = serializers.ChoiceField(choices=ExtensionCause.choices, allow_blank=True)
    delay_responsible = serializers.CharField()


class AlertQuery(serializers.Serializer):
    waiting = serializers.BooleanField(
        required=False, default=False, help_text="Only those not acknowledged, still standing"
    )


class AlertPagination(CursorPagination):
    page_size = 50
    ordering = ("-raised_at", "-id")


class DelayCauseInput(StrictInput):
    cause = serializers.ChoiceField(choices=ExtensionCause.choices)
    responsible = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Required for a human cause"
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AlertListView(APIView):
    """The alerts meant for the caller, of the tickets they may open; the newest first."""

    pagination_class = AlertPagination  # read by the schema too: the list comes in pages

    @extend_schema(
        summary="My alerts",
        parameters=[AlertQuery, OpenApiParameter("cursor", str, description="Next page")],
        responses={
            200: AlertOutput(many=True),
            400: ErrorOutput,
            401: ErrorOutput,
            404: OpenApiResponse(ErrorOutput, description="The cursor is not one of ours."),
        },
    )
    def get(self, request: Request) -> Response:
        query = AlertQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        alerts = alerts_for_user(user=request.user, waiting=query.validated_data["waiting"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(alerts, request, view=self)
        return paginator.get_paginated_response(AlertOutput(page, many=True).data)


class AlertAcknowledgeView(APIView):
    """Acknowledge one alert; acknowledging it again changes nothing."""

    @extend_schema(
        summary="Acknowledge an alert",
        request=None,
        responses={200: AlertOutput, 401: ErrorOutput, 404: ErrorOutput},
    )
    def post(self, request: Request, pk: int) -> Response:
        alert = alert_get_for_user(user=request.user, pk=pk)
        services.alert_acknowledge(alert=alert, actor=request.user, at=timezone.now())
        return Response(AlertOutput(alert_get_for_user(user=request.user, pk=pk)).data)


class AlertDelayCauseView(APIView):
    """Record why a ticket missed a deadline, on its breach alert."""

    @extend_schema(
        summary="Record the cause of a delay",
        request=DelayCauseInput,
        responses={
            200: AlertOutput,
            400: ErrorOutput,
            401: ErrorOutput,
            403: ErrorOutput,
            404: ErrorOutput,
            409: ErrorOutput,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        alert = alert_get_for_user(user=request.user, pk=pk)
        data = DelayCauseInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.alert_delay_record(
            alert=alert, actor=request.user, at=timezone.now(), **data.validated_data
        )
        return Response(AlertOutput(alert_get_for_user(user=request.user, pk=pk)).data)
