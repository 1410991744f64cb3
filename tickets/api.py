"""The tickets API: thin views over the selectors and services."""

import uuid
from collections.abc import Callable

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from audit.services import audit_signed_in
from audit.signals import client_address
from tickets import serializers as io
from tickets import services
from tickets.actions import ACTIONS
from tickets.errors import ApplicationError, invalid
from tickets.filters import TicketFilter
from tickets.models import Ticket
from tickets.photos import photo_response
from tickets.receipts import acting_once
from tickets.selectors import (
    repair_photo_get_for_user,
    ticket_detail_for_user,
    ticket_get_for_user,
    ticket_list_for_user,
    ticket_with_history,
)

_ERRORS = {
    400: OpenApiResponse(io.ErrorOutput, description="Invalid input; `fields` names each one."),
    403: OpenApiResponse(io.ErrorOutput, description="Your role may not do this."),
    404: OpenApiResponse(io.ErrorOutput, description="No such ticket, or not yours to see."),
    409: OpenApiResponse(
        io.ErrorOutput, description="Not allowed in the ticket's current state (`state`)."
    ),
}


class TicketPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-received_at", "-id")


@extend_schema(
    auth=[{}],
    responses={
        200: AuthTokenSerializer,
        400: OpenApiResponse(io.ErrorOutput, description="Wrong username or password."),
        429: OpenApiResponse(io.ErrorOutput, description="Too many attempts; try again later."),
    },
)
class AuthTokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (a sign-in, in the audit log)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # a wrong password: Django's failed signal
        user = serializer.validated_data["user"]
        token, _created = Token.objects.get_or_create(user=user)
        audit_signed_in(user=user, address=client_address(request), how="api-token")
        return Response({"token": token.key})


_IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    description=(
        "A UUID the client makes for each action it means to take. Sent again with a retry "
        "(a flaky network), the action is not taken twice: the ticket comes back as it is."
    ),
)


def _action(input_class: type[serializers.Serializer] | None, summary: str):
    return extend_schema(
        summary=summary,
        request=input_class,
        parameters=[_IDEMPOTENCY_KEY],
        responses={200: io.TicketDetailOutput, **_ERRORS},
    )


@extend_schema_view(
    list=extend_schema(
        summary="List the tickets you may see",
        responses={
            200: io.TicketOutput,
            400: _ERRORS[400],
            404: OpenApiResponse(io.ErrorOutput, description="The cursor is not one of ours."),
        },
    ),
    retrieve=extend_schema(
        summary="A ticket with its timeline",
        responses={200: io.TicketDetailOutput, 404: _ERRORS[404]},
    ),
    create=extend_schema(
        summary="Log a new ticket",
        request=io.TicketCreateInput,
        responses={201: io.TicketDetailOutput, 400: _ERRORS[400], 403: _ERRORS[403]},
    ),
)
class TicketViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    lookup_field = "number"
    lookup_value_regex = r"[0-9]{6}-[0-9]{4,}"
    filterset_class = TicketFilter
    pagination_class = TicketPagination
    serializer_class = io.TicketOutput

    def get_queryset(self):
        return ticket_list_for_user(user=self.request.user)

    def retrieve(self, request: Request, number: str) -> Response:
        ticket = ticket_detail_for_user(user=request.user, number=number)
        return Response(io.TicketDetailOutput(ticket).data)

    def create(self, request: Request) -> Response:
        self._require_perm("tickets.add_ticket")
        data = self._validated(io.TicketCreateInput, request.data)
        ticket = services.ticket_create(actor=request.user, **data)
        return Response(io.TicketDetailOutput(ticket).data, status=status.HTTP_201_CREATED)

    def _require_perm(self, perm: str) -> None:
        if not self.request.user.has_perm(perm):
            raise ApplicationError(_("Your role may not do this."), code="forbidden")

    def _validated(self, input_class, data) -> dict:
        serializer = input_class(data=data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _detail(self, ticket: Ticket) -> dict:
        # Access was checked before the action; the action itself may have taken the ticket
        # out of the actor's sight (a crew that declines it), and they still get the result.
        ticket = Ticket.objects.select_related(
            "fault_type", "district", "community", "crew", "department", "parent"
        ).get(pk=ticket.pk)
        return io.TicketDetailOutput(ticket_with_history(ticket)).data

    def _act(
        self,
        request: Request,
        number: str,
        name: str,
        input_class: type[serializers.Serializer] | None,
        service: Callable,
    ) -> Response:
        """Run one action: 404 for a ticket the user may not see, then 403 for a role that
        may not act (whatever it sent), then 400 for bad input, then 409 from the service."""
        ticket = ticket_get_for_user(user=request.user, number=number)
        self._require_perm(ACTIONS[name].permission)
        # An action without input still refuses a body with fields it does not know.
        data = self._validated(input_class or io.StrictInput, request.data)
        key = self._idempotency_key(request)
        with acting_once(user=request.user, key=key, ticket=ticket, action=name) as first:
            if first:
                service(actor=request.user, ticket=ticket, **data)
        return Response(self._detail(ticket))

    def _idempotency_key(self, request: Request) -> uuid.UUID | None:
        value = request.headers.get("Idempotency-Key")
        if not value:
            return None
        try:
            return uuid.UUID(value)
        except ValueError:
            raise invalid({"Idempotency-Key": _("Send a UUID, or no key at all.")}) from None

    @_action(None, "Verify a new ticket (address and fault checked)")
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, number: str) -> Response:
        return self._act(request, number, "verify", None, services.ticket_verify)

    @_action(io.DispatchInput, "Dispatch to a crew")
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_to_crew(self, request: Request, number: str) -> Response:
        return self._act(request, number, "dispatch", io.DispatchInput, services.ticket_dispatch)

    @_action(io.ReferInput, "Refer to the responsible department")
    @action(detail=True, methods=["post"])
    def refer(self, request: Request, number: str) -> Response:
        return self._act(request, number, "refer", io.ReferInput, services.ticket_refer)

    @_action(None, "The crew accepts the ticket")
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, number: str) -> Response:
        return self._act(request, number, "accept", None, services.ticket_accept)

    @_action(io.ReasonInput, "The crew declines, with a reason")
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, number: str) -> Response:
        return self._act(request, number, "decline", io.ReasonInput, services.ticket_decline)

    @_action(None, "The crew is on site")
    @action(detail=True, methods=["post"])
    def arrive(self, request: Request, number: str) -> Response:
        return self._act(request, number, "arrive", None, services.ticket_arrive)

    @_action(io.NoteInput, "The water is stopped (emergency)")
    @action(detail=True, methods=["post"])
    def mitigate(self, request: Request, number: str) -> Response:
        return self._act(request, number, "mitigate", io.NoteInput, services.ticket_mitigate)

    @_action(io.ResolveInput, "The repair is done, with the crew's report")
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, number: str) -> Response:
        return self._act(request, number, "resolve", io.ResolveInput, services.ticket_resolve)

    @_action(io.AnswerInput, "The department answers a referred ticket")
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, number: str) -> Response:
        return self._act(request, number, "answer", io.AnswerInput, services.ticket_answer)

    @_action(io.CloseInput, "Close, with the results backfilled")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, number: str) -> Response:
        return self._act(request, number, "close", io.CloseInput, services.ticket_close)

    @_action(io.ReasonInput, "Cancel, with a reason")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str) -> Response:
        return self._act(request, number, "cancel", io.ReasonInput, services.ticket_cancel)

    @_action(io.MergeInput, "Merge into an incident ticket")
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, number: str) -> Response:
        ticket = ticket_get_for_user(user=request.user, number=number)
        self._require_perm(ACTIONS["merge"].permission)
        data = self._validated(io.MergeInput, request.data)
        parent = ticket_get_for_user(user=request.user, number=data["parent"])
        services.ticket_merge(
            actor=request.user, ticket=ticket, parent=parent, reason=data["reason"]
        )
        return Response(self._detail(ticket))

    @_action(io.ReasonInput, "Reopen a closed ticket, with a reason")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, number: str) -> Response:
        return self._act(request, number, "reopen", io.ReasonInput, services.ticket_reopen)

    @_action(io.ReclassifyInput, "Change the grade; deadlines are recomputed")
    @action(detail=True, methods=["post"])
    def reclassify(self, request: Request, number: str) -> Response:
        return self._act(
            request, number, "reclassify", io.ReclassifyInput, services.ticket_reclassify
        )

    @_action(io.ExtensionRequestInput, "Ask to move a deadline")
    @action(detail=True, methods=["post"], url_path="request-extension")
    def request_extension(self, request: Request, number: str) -> Response:
        return self._act(
            request,
            number,
            "request-extension",
            io.ExtensionRequestInput,
            services.extension_request,
        )

    @_action(io.ExtensionDecisionInput, "Approve or refuse an extension")
    @action(detail=True, methods=["post"], url_path="approve-extension")
    def approve_extension(self, request: Request, number: str) -> Response:
        ticket = ticket_get_for_user(user=request.user, number=number)
        self._require_perm(ACTIONS["approve-extension"].permission)
        data = self._validated(io.ExtensionDecisionInput, request.data)
        extension = ticket.extensions.filter(pk=data["extension"]).first()
        if extension is None:
            raise invalid({"extension": _("This ticket has no such extension request.")})
        services.extension_decide(
            actor=request.user, extension=extension, approve=data["approve"], note=data["note"]
        )
        return Response(self._detail(ticket))

    @extend_schema(
        summary="The repair photos of a ticket",
        responses={200: io.RepairPhotoOutput(many=True), 404: _ERRORS[404]},
        methods=["GET"],
    )
    @extend_schema(
        summary="Add repair photos (multipart, field `photos`, JPEG, PNG or WebP)",
        request={"multipart/form-data": io.PhotoUploadInput},
        parameters=[_IDEMPOTENCY_KEY],
        responses={201: io.RepairPhotoOutput(many=True), **_ERRORS},
        methods=["POST"],
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser],
        pagination_class=None,  # a ticket's photos come whole, unfiltered
        filter_backends=[],
    )
    def photos(self, request: Request, number: str) -> Response:
        ticket = ticket_get_for_user(user=request.user, number=number)
        if request.method == "GET":
            listed = ticket_with_history(ticket).photo_list
            return Response(io.RepairPhotoOutput(listed, many=True).data)
        self._require_perm("tickets.resolve_ticket")
        unknown = sorted(set(request.data) - {"photos"})
        if unknown:
            raise invalid({name: _("This field cannot be set.") for name in unknown})
        key = self._idempotency_key(request)
        added = []
        with acting_once(user=request.user, key=key, ticket=ticket, action="photos") as first:
            if first:
                added = services.repair_photos_add(
                    actor=request.user, ticket=ticket, photos=request.FILES.getlist("photos")
                )
        for photo in added:
            photo.ticket = ticket
        return Response(io.RepairPhotoOutput(added, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="One repair photo, as the image itself",
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The image."),
            404: _ERRORS[404],
        },
    )
    @action(detail=True, methods=["get"], url_path=r"photos/(?P<key>[0-9a-f-]{36})")
    def photo(self, request: Request, number: str, key: str) -> FileResponse:
        return photo_response(repair_photo_get_for_user(user=request.user, number=number, key=key))
