"""The bare ceiling: a plain DRF create of the same ticket row, with no auth and no events."""

from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.validators import UniqueValidator

from tickets.models import Ticket


class BareTicketSerializer(serializers.ModelSerializer):
    """A ``ModelSerializer`` over the columns ``ticket_create`` fills; the client sends them all."""

    # ``number`` is ``editable=False`` on the model, so DRF would make it read-only; declare it
    # as DRF would for an editable unique column (with its UniqueValidator).
    number = serializers.CharField(
        max_length=20, validators=[UniqueValidator(queryset=Ticket.objects.all())]
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "channel",
            "category",
            "fault_type",
            "grade",
            "description",
            "caller_name",
            "caller_phone",
            "address",
            "building",
            "unit",
            "room",
            "district",
            "community",
            "received_at",
            "sla_started_at",
            "dispatch_due",
            "accept_due",
            "arrive_due",
            "mitigate_due",
            "resolve_due",
            "close_due",
        ]


class BareTicketCreateView(generics.CreateAPIView):
    """POST a ticket row as it is: no authentication, no permission, no numbering, no event."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = BareTicketSerializer
    queryset = Ticket.objects.all()
