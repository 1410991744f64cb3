"""The Open311 GeoReport v2 endpoints (``/open311/``), in JSON and XML by their suffix.

Errors come as the spec writes them, a list of ``{code, description}``: 400 with what is
wrong, 403 for a missing or wrong API key, 404 for what does not exist, 429 past a key's
(or an address's) requests per minute.
"""

import time
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from callcentre.models import Open311Partner, Open311Request
from callcentre.open311 import schema, selectors, services
from callcentre.open311.documents import (
    Document,
    Open311JSONRenderer,
    Open311XMLRenderer,
    Written,
)
from callcentre.promises import ticket_promise
from tickets.errors import ApplicationError, invalid

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The day this endpoint last changed what it offers (the discovery's changeset).
CHANGESET = "2026-12-03T00:00:00+08:00"


class Open311KeyAuthentication(BaseAuthentication):
    """A partner's API key, as ``api_key`` in the query or a POST's form. Without one a
    client may read; a wrong or withdrawn key is a 403."""

    def authenticate(self, request: Request):
        key = request.POST.get("api_key") or request.query_params.get("api_key", "")
        if not key:
            return None
        partner = selectors.partner_for_key(key)
        if partner is None:
            raise exceptions.PermissionDenied(_("The API key is not valid."))
        return partner.user, partner


class Open311View(APIView):
    """One GeoReport v2 endpoint in one format: the URLs give each view a single renderer."""

    authentication_classes = [Open311KeyAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = []
    parser_classes = [FormParser, MultiPartParser]
    renderer_classes = [Open311JSONRenderer, Open311XMLRenderer]
    schema = schema.Open311Schema()

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.partner: Open311Partner | None = request.auth
        _admit(request, self.partner)
        _refuse_nul_characters(request)

    def handle_exception(self, exc: Exception) -> Response:
        code, descriptions = _error_of(exc)
        if code is None:
            raise exc
        rows = [{"code": code, "description": str(text)} for text in descriptions]
        response = Response(Document("errors", "error", rows), status=code)
        if isinstance(exc, exceptions.Throttled) and exc.wait:
            response["Retry-After"] = str(int(exc.wait) + 1)
        return response


def _error_of(exc: Exception) -> tuple[int | None, list[str]]:
    if isinstance(exc, ApplicationError):
        if exc.fields:
            return exc.status, [
                f"{name}: {message}" for name, texts in exc.fields.items() for message in texts
            ]
        return exc.status, [exc.message]
    if isinstance(exc, Http404):
        return status.HTTP_404_NOT_FOUND, [_("Not found.")]
    if isinstance(exc, exceptions.APIException):
        return exc.status_code, [str(exc.detail)]
    return None, []


def _admit(request: Request, partner: Open311Partner | None) -> None:
    """Count the request against the key's (or, without a key, the address's) minute."""
    if partner is not None:
        who, limit = f"key-{partner.pk}", partner.requests_per_minute
    else:
        who = f"address-{request.META.get('REMOTE_ADDR', '')}"
        limit = settings.OPEN311_ANONYMOUS_PER_MINUTE
    now = time.time()
    key = f"open311:rate:{who}:{int(now // 60)}"
    cache = caches["shared"]
    count = 1 if cache.add(key, 1, timeout=120) else cache.incr(key)
    if count > limit:
        raise exceptions.Throttled(wait=60 - now % 60)


def _refuse_nul_characters(request: Request) -> None:
    """No field of the spec holds a NUL character (and PostgreSQL stores none): name them."""
    sent = [*request.query_params.lists(), *_lists(request.data)]
    errors = {
        name: _("Null characters are not allowed.")
        for name, values in sent
        if "\x00" in name or any("\x00" in str(value) for value in values)
    }
    if errors:
        raise invalid(errors)


def _lists(data) -> list[tuple[str, list]]:
    """A form's fields with all their values; a GET's empty body is a plain dict."""
    return list(data.lists()) if hasattr(data, "lists") else [(k, [v]) for k, v in data.items()]


def _site(request: Request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


class DiscoveryView(Open311View):
    @extend_schema(
        summary="Where the Open311 endpoint is and what it speaks",
        responses={200: schema.DISCOVERY, **schema.ERROR_RESPONSES},
        parameters=schema.HEADERS,
    )
    def get(self, request: Request, format=None) -> Response:
        endpoint = {
            "specification": SPECIFICATION,
            "url": _site(request) + reverse("open311-root"),
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
        return Response(
            Document(
                "discovery",
                None,
                {
                    "changeset": CHANGESET,
                    "contact": settings.OPEN311_CONTACT,
                    "key_service": settings.OPEN311_KEY_SERVICE,
                    "endpoints": [endpoint],
                },
            )
        )


class ServiceListView(Open311View):
    @extend_schema(
        summary="The services a request may name: one per fault type",
        responses={200: schema.SERVICES, **schema.ERROR_RESPONSES},
        parameters=schema.HEADERS,
    )
    def get(self, request: Request, format=None) -> Response:
        rows = [
            {
                "service_code": service.code,
                "service_name": service.name,
                "description": service.description or None,
                "metadata": bool(selectors.service_attributes(service)),
                "type": "realtime",
                "keywords": service.keywords or None,
                "group": service.group or service.fault_type.get_category_display(),
            }
            for service in selectors.services_offered()
        ]
        return Response(Document("services", "service", rows))


class ServiceDefinitionView(Open311View):
    @extend_schema(
        summary="The attributes a request of a service takes",
        responses={200: schema.SERVICE_DEFINITION, **schema.ERROR_RESPONSES, **schema.NOT_FOUND},
        parameters=[
            *schema.HEADERS,
            OpenApiParameter("code", str, OpenApiParameter.PATH, pattern=r"^[-\w]+$"),
        ],
    )
    def get(self, request: Request, code: str, format=None) -> Response:
        service = get_object_or_404(selectors.services_offered(), code=code)
        attributes = [attribute.as_dict() for attribute in selectors.service_attributes(service)]
        return Response(
            Document("service_definition", None, {"service_code": code, "attributes": attributes})
        )


def _moment(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise invalid({name: _("A date and time in ISO 8601, e.g. 2026-12-03T09:30:00+08:00.")})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _listed(value: str) -> list[str]:
    """The parts of a comma-separated parameter: "open, closed" → ["open", "closed"]."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _documents(request: Request, chosen: QuerySet[Open311Request]) -> Document | Written:
    """The requests' documents: a JSON list as PostgreSQL writes it, else built here."""
    if request.accepted_renderer.format == "json":
        written = selectors.request_documents_json(chosen)
        if written is not None:
            return Written(written)
    return Document("service_requests", "request", selectors.request_documents(chosen))


class RequestListView(Open311View):
    @extend_schema(
        summary="Requests filed through Open311 and how each stands",
        description="Never the caller's name, phone or e-mail address.",
        responses={200: schema.REQUESTS, **schema.INVALID, **schema.ERROR_RESPONSES},
        parameters=[*schema.HEADERS, *schema.REQUEST_FILTERS],
    )
    def get(self, request: Request, format=None) -> Response:
        params = request.query_params
        statuses = _listed(params.get("status", ""))
        if any(part not in ("open", "closed") for part in statuses):
            raise invalid({"status": _("open, closed, or both separated by a comma.")})
        chosen = selectors.requests_chosen(
            numbers=_listed(params.get("service_request_id", "")),
            service_code=params.get("service_code", "").strip(),
            start=_moment(request, "start_date"),
            end=_moment(request, "end_date"),
            statuses=statuses,
            now=timezone.now(),
        )
        return Response(_documents(request, chosen))

    @extend_schema(
        summary="File a repair request: it becomes a ticket on the dispatchers' board",
        request={
            "application/x-www-form-urlencoded": schema.NEW_REQUEST,
            "multipart/form-data": schema.NEW_REQUEST,
        },
        responses={
            201: schema.CREATED,
            **schema.INVALID,
            **schema.ERROR_RESPONSES,
            404: OpenApiResponse(schema.ERRORS, description="No service has this code."),
            415: OpenApiResponse(
                schema.ERRORS, description="Send a form: urlencoded or multipart."
            ),
        },
        parameters=schema.HEADERS,
        auth=[{"open311ApiKey": []}],
    )
    def post(self, request: Request, format=None) -> Response:
        if self.partner is None:
            raise ApplicationError(
                _("An API key is needed to file a request (api_key); the centre issues them."),
                code="forbidden",
            )
        code = request.data.get("service_code", "").strip()
        if not code:
            raise invalid({"service_code": _("Which service: see services.json.")})
        service = selectors.services_offered().filter(code=code).first()
        if service is None:
            raise ApplicationError(
                _("No service has the code %(code)s.") % {"code": code}, code="not_found"
            )
        filed = services.open311_request_create(
            partner=self.partner, service=service, data=request.data, at=timezone.now()
        )
        ticket = filed.ticket
        language = translation.get_language() or settings.LANGUAGE_CODE
        return Response(
            Document(
                "service_requests",
                "request",
                [
                    {
                        "service_request_id": ticket.number,
                        "token": str(filed.token),
                        "service_notice": ticket_promise(ticket=ticket, language=language),
                        "account_id": filed.account_id or None,
                    }
                ],
            ),
            status=status.HTTP_201_CREATED,
        )


class RequestDetailView(Open311View):
    @extend_schema(
        summary="One request, by its ticket number",
        responses={200: schema.REQUESTS, **schema.ERROR_RESPONSES, **schema.NOT_FOUND},
        parameters=[
            *schema.HEADERS,
            OpenApiParameter("number", str, OpenApiParameter.PATH, pattern=r"^[-\w]+$"),
        ],
    )
    def get(self, request: Request, number: str, format=None) -> Response:
        chosen = selectors.requests_chosen(numbers=[number], now=timezone.now())
        if not chosen.exists():
            raise Http404
        return Response(_documents(request, chosen))


class TokenView(Open311View):
    @extend_schema(
        summary="The ticket number a POST's token stands for",
        responses={200: schema.TOKENS, **schema.ERROR_RESPONSES, **schema.NOT_FOUND},
        parameters=[
            *schema.HEADERS,
            OpenApiParameter("token", OpenApiTypes.UUID, OpenApiParameter.PATH),
        ],
    )
    def get(self, request: Request, token: str, format=None) -> Response:
        filed = Open311Request.objects.select_related("ticket").filter(token=token).first()
        if filed is None:
            raise Http404
        row = {"service_request_id": filed.ticket.number, "token": str(filed.token)}
        return Response(Document("service_requests", "request", [row]))
