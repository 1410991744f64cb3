"""How ``/api/schema/`` describes the Open311 endpoints: each path once per format
(``services.json``, ``services.xml``), the documents GeoReport v2 defines (the ``xml``
keywords name the elements of the XML form), its error list, and the partner's API key.

The documents are written here as OpenAPI schemas rather than serializers: they are the
spec's, not the product's models, and the same schema serves both formats.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from callcentre.open311.selectors import DEFAULT_DAYS, MAX_REQUESTS, PIPE_SIZES


def _text(description: str = "", **more) -> dict:
    return {"type": "string", **({"description": description} if description else {}), **more}


def _maybe(schema: dict) -> dict:
    return {**schema, "nullable": True}


_MOMENT = _text(
    "ISO 8601 with the centre's offset, e.g. 2026-12-03T09:30:00+08:00.", format="date-time"
)


def _listed(root: str, item: str, schema: dict, **more) -> dict:
    """A list of ``schema``: a JSON array, or ``<root><item>…</item></root>`` in XML."""
    return {
        "type": "array",
        "items": {**schema, "xml": {"name": item}},
        "xml": {"name": root, "wrapped": True},
        **more,
    }


def _object(root: str | None, required: list[str], properties: dict) -> dict:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        **({"xml": {"name": root}} if root else {}),
    }


ENDPOINT = _object(
    None,
    ["specification", "url", "changeset", "type", "formats"],
    {
        "specification": _text("The spec this endpoint follows.", format="uri"),
        "url": _text("The endpoint's address.", format="uri"),
        "changeset": _MOMENT,
        "type": {"type": "string", "enum": ["production", "test"]},
        "formats": _listed("formats", "format", _text(enum=["text/xml", "application/json"])),
    },
)
DISCOVERY = _object(
    "discovery",
    ["changeset", "contact", "key_service", "endpoints"],
    {
        "changeset": _MOMENT,
        "contact": _text("Whom to ask about this endpoint."),
        "key_service": _text("Where a partner asks for an API key."),
        "endpoints": _listed("endpoints", "endpoint", ENDPOINT),
    },
)
SERVICE = _object(
    None,
    ["service_code", "service_name", "metadata", "type"],
    {
        "service_code": _text("The code a request names; one per fault type."),
        "service_name": _text(),
        "description": _maybe(_text()),
        "metadata": {
            "type": "boolean",
            "description": "Whether services/{service_code} lists attributes to send.",
        },
        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": _maybe(_text("Comma-separated words a client may search by.")),
        "group": _maybe(_text("The category it belongs to: repair, consult, complaint…")),
    },
)
ATTRIBUTE_VALUE = _object(None, ["key", "name"], {"key": _text(), "name": _text()})
ATTRIBUTE = _object(
    None,
    ["variable", "code", "datatype", "required", "order", "description", "values"],
    {
        "variable": {"type": "boolean"},
        "code": _text("Sent back as attribute[code]."),
        "datatype": {
            "type": "string",
            "enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"],
        },
        "required": {"type": "boolean"},
        "datatype_description": _maybe(_text()),
        "order": {"type": "integer"},
        "description": _text(),
        "values": _listed("values", "value", ATTRIBUTE_VALUE),
    },
)
SERVICE_DEFINITION = _object(
    "service_definition",
    ["service_code", "attributes"],
    {"service_code": _text(), "attributes": _listed("attributes", "attribute", ATTRIBUTE)},
)
REQUEST = _object(
    None,
    ["service_request_id", "status", "service_code", "requested_datetime"],
    {
        "service_request_id": _text("The ticket's number."),
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _maybe(_text("Where it stands; when closed, what the crew did.")),
        "service_name": _maybe(_text()),
        "service_code": _text(),
        "description": _maybe(_text(maxLength=4000)),
        "agency_responsible": _maybe(_text("The crew or department on it, or the centre.")),
        "service_notice": _maybe(_text("The time the centre promises for this grade.")),
        "requested_datetime": _MOMENT,
        "updated_datetime": _maybe(_MOMENT),
        "expected_datetime": _maybe({**_MOMENT, "description": "The ticket's deadline."}),
        "address": _maybe(_text()),
        "address_id": _maybe(_text()),
        "zipcode": _maybe(_text()),
        "lat": _maybe({"type": "number", "minimum": -90, "maximum": 90}),
        "long": _maybe({"type": "number", "minimum": -180, "maximum": 180}),
        "media_url": _maybe(_text(format="uri")),
    },
)
FILED = _object(
    None,
    ["service_request_id", "token"],
    {
        "service_request_id": _text("The ticket's number."),
        "token": _text("Asks for the request again at tokens/{token}.", format="uuid"),
        "service_notice": _maybe(_text()),
        "account_id": _maybe(_text()),
    },
)
TOKEN = _object(
    None,
    ["service_request_id", "token"],
    {"service_request_id": _text(), "token": _text(format="uuid")},
)
ERROR = _object(
    None,
    ["code", "description"],
    {
        "code": {"type": "integer", "description": "The HTTP status."},
        "description": _text('What is wrong; a field\'s error starts with its name, "phone: …".'),
    },
)

SERVICES = _listed("services", "service", SERVICE)
REQUESTS = _listed("service_requests", "request", REQUEST)
CREATED = _listed("service_requests", "request", FILED, minItems=1, maxItems=1)
TOKENS = _listed("service_requests", "request", TOKEN, minItems=1, maxItems=1)
ERRORS = _listed("errors", "error", ERROR, minItems=1)

_RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds until the next minute, when requests are taken again.",
)
ERROR_RESPONSES = {
    403: OpenApiResponse(ERRORS, description="The API key is wrong, or a POST has none."),
    429: OpenApiResponse(
        ERRORS, description="Past the key's requests per minute (or the address's, without one)."
    ),
}
NOT_FOUND = {404: OpenApiResponse(ERRORS, description="No such service, request or token.")}
INVALID = {400: OpenApiResponse(ERRORS, description="Invalid input: one error per field.")}
HEADERS = [_RETRY_AFTER]

REQUEST_FILTERS = [
    OpenApiParameter(
        "service_request_id",
        OpenApiTypes.STR,
        description="Ticket numbers, comma-separated; when given, the other filters are ignored.",
    ),
    OpenApiParameter("service_code", OpenApiTypes.STR, description="Only this service."),
    OpenApiParameter(
        "start_date",
        OpenApiTypes.DATETIME,
        description=f"Requested at or after (ISO 8601). Without dates: the last {DEFAULT_DAYS} "
        f"days; at most {MAX_REQUESTS} requests, newest first.",
    ),
    OpenApiParameter("end_date", OpenApiTypes.DATETIME, description="Requested at or before."),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        pattern=r"^\s*((open|closed)\s*(,\s*(open|closed)\s*)?)?$",
        description="open, closed, or both comma-separated; empty or left out: both.",
    ),
    OpenApiParameter(
        "jurisdiction_id",
        OpenApiTypes.STR,
        description="Accepted and ignored: this endpoint serves one jurisdiction.",
    ),
]

_FIELD = _text(maxLength=20)
NEW_REQUEST = {
    "type": "object",
    "required": ["service_code", "phone"],
    "description": (
        "A location is needed: lat and long, address_string or address_id. A repair service "
        "also needs attribute[water_cut], and attribute[building] and attribute[unit] unless "
        "it is an emergency type; services/{service_code} lists them."
    ),
    "properties": {
        "service_code": _text("From services.json.", minLength=1),
        "jurisdiction_id": _text("Accepted and ignored."),
        "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "WGS84."},
        "long": {"type": "number", "minimum": -180, "maximum": 180, "description": "WGS84."},
        "address_string": _text(maxLength=200),
        "address_id": _text(maxLength=80),
        "email": _text(format="email", maxLength=254),
        "device_id": _text(maxLength=80),
        "account_id": _text(maxLength=80),
        "first_name": _text(maxLength=30),
        "last_name": _text(maxLength=30),
        "phone": _text("A mobile, or a landline with its area code.", maxLength=32),
        "description": _text(maxLength=4000),
        "media_url": _text("A photo's address (http or https).", format="uri", maxLength=500),
        "attribute[building]": _FIELD,
        "attribute[unit]": _FIELD,
        "attribute[room]": _FIELD,
        "attribute[water_cut]": _text(enum=["yes", "no"]),
        "attribute[pipe_diameter]": _text(enum=[str(size) for size in PIPE_SIZES]),
    },
}


class Open311Schema(AutoSchema):
    """Names each operation by its path and format (``open311_services_xml``), tags them
    apart from the product's own API, and says what the views do with a filter sent
    empty: nothing, as if it were left out."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        for parameter in (operation or {}).get("parameters", []):
            if parameter["in"] == "query":
                parameter["allowEmptyValue"] = True
        return operation

    def get_operation_id(self) -> str:
        route = self.path.removeprefix("/open311/").removeprefix("v2/")
        words = route.replace("{", "").replace("}", "").replace("/", "_").replace(".", "_")
        if self.method == "POST":
            words += "_create"
        return f"open311_{words.strip('_') or 'root'}"

    def get_tags(self) -> list[str]:
        return ["open311"]

    def get_description(self) -> str:
        return "Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2)."


class Open311KeyScheme(OpenApiAuthenticationExtension):
    """Describe a partner's API key in the OpenAPI schema."""

    target_class = "callcentre.open311.views.Open311KeyAuthentication"
    name = "open311ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "query",
            "name": "api_key",
            "description": (
                "The key the centre issued the partner; a POST may send it as a form field "
                "instead, as GeoReport v2 does. Reading needs none; filing a request does."
            ),
        }
