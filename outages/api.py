"""What the telephone switch asks before it queues a call: is there an outage at the
caller's address, and what to play."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from callcentre.cti import CtiSignatureAuthentication
from callcentre.selectors import e164_or_none
from outages.models import Outage
from outages.selectors import outage_for_number
from tickets.errors import invalid
from tickets.serializers import ErrorOutput


class OutageOutput(serializers.ModelSerializer):
    class Meta:
        model = Outage
        fields = ["id", "kind", "supply", "title", "customer_text", "starts_at", "expected_end_at"]


class CtiNoticeOutput(serializers.Serializer):
    number = serializers.CharField(help_text="The caller's number, E.164.")
    outage = OutageOutput(allow_null=True, help_text="None when nothing covers the address.")


class CtiNoticeView(APIView):
    """The outage covering a caller's known address, for the switch to play."""

    authentication_classes = [CtiSignatureAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="The outage notice or incident covering a caller's address",
        description=(
            "Signed like the CTI events, over `<X-CTI-Timestamp>.<path and query>`. The "
            "caller's addresses are those of their earlier calls; the latest-starting outage "
            "in force over any of them is answered, or `outage: null`."
        ),
        parameters=[
            OpenApiParameter("number", str, required=True, description="The calling number.")
        ],
        responses={
            200: CtiNoticeOutput,
            400: ErrorOutput,
            403: OpenApiResponse(ErrorOutput, description="Missing, wrong or expired signature."),
        },
    )
    def get(self, request: Request) -> Response:
        phone = e164_or_none(request.query_params.get("number", ""))
        if phone is None:
            raise invalid(
                {"number": _("Not a phone number: a mobile, or a landline with its area code.")}
            )
        outage = outage_for_number(phone=phone, now=timezone.now())
        return Response(CtiNoticeOutput({"number": phone, "outage": outage}).data)
