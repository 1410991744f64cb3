"""Staffing over the API: how many agents an interval needs (Erlang C, or Erlang A when
callers hang up)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from staffing import erlang
from tickets.serializers import ErrorOutput

# Beyond this the question is not one centre's interval: refused rather than computed.
MAX_PATIENCE_IN_HANDLE_TIMES = 100
MAX_TRAFFIC_ERLANGS = 5000
# Erlang A's figures, in the answer only when a patience was given.
ABANDONMENT_FIELDS = ("probability_of_abandon", "average_wait_seconds")


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
    patience_seconds = serializers.FloatField(
        required=False,
        min_value=1,
        max_value=86_400,
        help_text="Mean time a caller waits before hanging up (exponential). Given, callers"
        " abandon (Erlang A) and an abandoned call counts as not answered within the target;"
        " left out, every caller waits as long as it takes (Erlang C)",
    )

    def validate(self, data: dict) -> dict:
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
        patience = data.get("patience_seconds")
        if patience is not None and patience > MAX_PATIENCE_IN_HANDLE_TIMES * data["aht_seconds"]:
            # Beyond this, abandonment changes nothing Erlang C does not say, and the queue's
            # sums grow long: the answer would be the same, only slower.
            raise serializers.ValidationError(
                {
                    "patience_seconds": _(
                        "At most %(limit)s times the handle time; leave it out for callers "
                        "who never hang up."
                    )
                    % {"limit": MAX_PATIENCE_IN_HANDLE_TIMES}
                }
            )
        return data


class ErlangOutput(serializers.Serializer):
    agents = serializers.IntegerField(help_text="Agents needed on the phones")
    scheduled_agents = serializers.IntegerField(help_text="Agents to schedule, after shrinkage")
    traffic = serializers.FloatField(help_text="Offered traffic in erlangs")
    service_level = serializers.FloatField(
        help_text="Share of all calls offered answered within the target"
    )
    probability_of_waiting = serializers.FloatField()
    asa_seconds = serializers.FloatField(help_text="Average speed of answer, of answered calls")
    occupancy = serializers.FloatField()
    probability_of_abandon = serializers.FloatField(
        required=False, help_text="Share of calls that hang up unanswered (with patience_seconds)"
    )
    average_wait_seconds = serializers.FloatField(
        required=False,
        help_text="Mean wait of all calls, answered or abandoned (with patience_seconds)",
    )

    def to_representation(self, instance: erlang.Staffing) -> dict:
        data = super().to_representation(instance)
        for field in ABANDONMENT_FIELDS:
            if data[field] is None:
                del data[field]
        return data


class ErlangView(APIView):
    """The fewest agents that meet a service level on an interval's calls: Erlang C, or
    Erlang A when ``patience_seconds`` says how long callers wait before hanging up."""

    @extend_schema(
        summary="Agents needed (Erlang C, or Erlang A with a patience)",
        parameters=[ErlangQuery],
        responses={200: ErlangOutput, 400: ErrorOutput, 401: ErrorOutput},
    )
    def get(self, request: Request) -> Response:
        query = ErlangQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        staffing = erlang.required(**query.validated_data)
        return Response(ErlangOutput(staffing).data)
