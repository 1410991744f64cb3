"""JSON Schemas of GeoReport v2's responses, written from the spec (wiki.open311.org/
GeoReport_v2) after the ones the Open311 project publishes for validation: the fields each
response must have, their types, and the values the spec allows."""


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


_STRING = {"type": "string"}
_MOMENT = {"type": "string", "format": "date-time"}

SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": _STRING,
        "service_name": _STRING,
        "description": _nullable(_STRING),
        "metadata": {"type": "boolean"},
        "type": {"enum": ["realtime", "batch", "blackbox"]},
        "keywords": _nullable(_STRING),
        "group": _nullable(_STRING),
    },
}
SERVICES = {"type": "array", "items": SERVICE}

SERVICE_DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": _STRING,
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["variable", "code", "datatype", "required"],
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": _STRING,
                    "datatype": {
                        "enum": [
                            "string",
                            "number",
                            "datetime",
                            "text",
                            "singlevaluelist",
                            "multivaluelist",
                        ]
                    },
                    "required": {"type": "boolean"},
                    "datatype_description": _nullable(_STRING),
                    "order": _nullable({"type": "integer"}),
                    "description": _nullable(_STRING),
                    "values": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "name"],
                            "properties": {"key": _STRING, "name": _STRING},
                        },
                    },
                },
            },
        },
    },
}

REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "properties": {
        "service_request_id": _STRING,
        "status": {"enum": ["open", "closed"]},
        "status_notes": _nullable(_STRING),
        "service_name": _nullable(_STRING),
        "service_code": _STRING,
        "description": _nullable({"type": "string", "maxLength": 4000}),
        "agency_responsible": _nullable(_STRING),
        "service_notice": _nullable(_STRING),
        "requested_datetime": _MOMENT,
        "updated_datetime": _nullable(_MOMENT),
        "expected_datetime": _nullable(_MOMENT),
        "address": _nullable(_STRING),
        "address_id": _nullable(_STRING),
        "zipcode": _nullable(_STRING),
        "lat": _nullable({"type": "number"}),
        "long": _nullable({"type": "number"}),
        "media_url": _nullable({"type": "string", "format": "uri"}),
    },
}
REQUESTS = {"type": "array", "items": REQUEST}

# The answer to a POST: the request's ID (or a token to ask for it later).
CREATED = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "anyOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
        "properties": {
            "service_request_id": _STRING,
            "token": _STRING,
            "service_notice": _nullable(_STRING),
            "account_id": _nullable(_STRING),
        },
    },
}

ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": _STRING},
    },
}

DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "changeset": _MOMENT,
        "contact": _STRING,
        "key_service": _STRING,
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "specification": _STRING,
                    "url": {"type": "string", "format": "uri"},
                    "changeset": _MOMENT,
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": _STRING},
                },
            },
        },
    },
}
