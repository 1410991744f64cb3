"""Staffing over the API: how many agents an interval needs (Erlang C)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from staffing import erlang
from tickets.serializers import ErrorOutput

# Beyond this the question is not one centre's interval: refused rather than computed.
MAX_TRAFFIC_ERLANGS = 5000


class ErlangQuery(serializers.Serializer):
    calls = serializers.FloatField(min_value=0, max_value=1_000_000, help_text="Calls offered")
    interval_minutes = serializers.FloatField(min_value=1, max_value=1440)
    aht_seconds = serializers.FloatField(
        min_value=1, max_value=86_400, help_text="Average handle time"
    )
    target_seconds = serializers.FloatField(
        min_value=0, max_value=3600, help_text="Answered within this many seconds"
    )
    service_level = serializers.FloatField(
        min_value=0.01, max_value=0.9999, help_text="Share answered within the target, e.g. 0.8"
    )
    max_occupancy = serializers.FloatField(
        required=False, default=1.0, min_value=0.05, max_value=1.0
    )
    shrinkage = serializers.FloatField(required=False, default=0.0, min_value=0.0, max_value=0.9)

    def validate(self, data: dict) -> dict:
        if "patience_seconds" in self.initial_data:
            raise serializers.ValidationError(
                {"patience_seconds": _("Abandonment (Erlang A) is not computed yet.")}
            )
        offered = erlang.traffic(
            calls=data["calls"],
            interval_minutes=data["interval_minutes"],
            aht_seconds=data["aht_seconds"],
        )
        if offered > MAX_TRAFFIC_ERLANGS:
            raise serializers.ValidationError(
                {
                    "calls": _("More than %(limit)s erlangs of traffic in one interval.")
                    % {"limit": MAX_TRAFFIC_ERLANGS}
                }
            )
        return data


class ErlangOutput(serializers.Serializer):
    agents = serializers.IntegerField(help_text="Agents needed on the phones")
    scheduled_agents = serializers.IntegerField(help_text="Agents to schedule, after shrinkage")
    traffic = serializers.FloatField(help_text="Offered traffic in erlangs")
    service_level = serializers.FloatField()
    probability_of_waiting = serializers.FloatField()
    asa_seconds = serializers.FloatField(help_text="Average speed of answer")
    occupancy = serializers.FloatField()


class ErlangView(APIView):
    """The fewest agents that meet a service level on an interval's calls (Erlang C)."""

    @extend_schema(
        summary="Agents needed (Erlang C)",
        parameters=[ErlangQuery],
        responses={200: ErlangOutput, 400: ErrorOutput, 401: ErrorOutput},
    )
    def get(self, request: Request) -> Response:
        query = ErlangQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        staffing = erlang.required(**query.validated_data)
        return Response(ErlangOutput(staffing).data)
