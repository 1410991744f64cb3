"""The intake API: events from the telephone switch, and FAQ search."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from callcentre import services
from callcentre.cti import CtiSignatureAuthentication
from callcentre.models import Call, CtiEvent
from callcentre.selectors import faq_search
from tickets.errors import ApplicationError
from tickets.serializers import ErrorOutput, StrictInput


class CtiEventInput(StrictInput):
    call_id = serializers.CharField(max_length=64)
    event = serializers.ChoiceField(choices=CtiEvent.Kind.choices)
    occurred_at = serializers.DateTimeField(
        required=False, help_text="When it happened at the switch; now if left out."
    )
    caller_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    called_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    agent_extension = serializers.CharField(max_length=16, required=False, allow_blank=True)
    direction = serializers.ChoiceField(choices=Call.Direction.choices, required=False)
    outage = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="For `notice_played`: the outage's id, as `GET /api/v1/cti/notices/` gave it.",
    )


class CtiEventOutput(serializers.Serializer):
    call = serializers.IntegerField(source="call_id")
    event = serializers.CharField()
    duplicate = serializers.BooleanField()


class CtiEventView(APIView):
    """Receive one signed event from the telephone switch."""

    authentication_classes = [CtiSignatureAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]  # the switch signs the JSON it sends

    @extend_schema(
        summary="Report a call event from the telephone switch",
        description=(
            "Signed with `X-CTI-Timestamp` (Unix seconds) and `X-CTI-Signature: "
            "sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>` with the shared secret. "
            "The same (call_id, event) again is accepted and changes nothing."
        ),
        request=CtiEventInput,
        responses={
            201: CtiEventOutput,
            200: OpenApiResponse(CtiEventOutput, description="Already received; nothing changed."),
            400: ErrorOutput,
            403: OpenApiResponse(ErrorOutput, description="Missing, wrong or expired signature."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = CtiEventInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        event, new = services.cti_event_record(
            call_id=data["call_id"],
            event=data["event"],
            occurred_at=data.get("occurred_at") or timezone.now(),
            caller_number=data.get("caller_number", ""),
            agent_extension=data.get("agent_extension", ""),
            direction=data.get("direction", Call.Direction.INBOUND),
            outage=data.get("outage"),
        )
        body = CtiEventOutput(
            {"call_id": event.call_id, "event": event.event, "duplicate": not new}
        )
        return Response(body.data, status=status.HTTP_201_CREATED if new else status.HTTP_200_OK)


class FaqEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    question = serializers.CharField()
    answer = serializers.CharField()
    category = serializers.CharField()
    score = serializers.FloatField()


class FaqSearchView(APIView):
    """Search the FAQ manual; Chinese queries match inside words (水压 finds 水压低)."""

    @extend_schema(
        summary="Search the FAQ manual, best match first",
        parameters=[
            OpenApiParameter(
                "q", str, required=True, pattern=r"\S", description="What the caller asks"
            )
        ],
        responses={200: FaqEntryOutput(many=True), 400: ErrorOutput, 403: ErrorOutput},
    )
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("callcentre.view_faqentry"):
            raise ApplicationError(str(_("Your role may not do this.")), code="forbidden")
        query = request.query_params.get("q", "").strip()
        if not query or len(query) > 200:
            raise ApplicationError(
                str(_("Some fields are not valid; each one says what is wrong.")),
                fields={"q": [str(_("Give a question of at most 200 characters."))]},
            )
        return Response(FaqEntryOutput(faq_search(query=query), many=True).data)
