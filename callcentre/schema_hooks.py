"""What ``/api/schema/`` says of every operation at once, after drf-spectacular has read
the views."""

UNAUTHORIZED = "No valid token or session: sign in, or send `Authorization: Token …`."


def document_sign_in_errors(result: dict, generator, request, public) -> dict:
    """An operation that needs a signed-in user answers 401, with the API's error body, to a
    request without credentials or with a wrong token."""
    for operations in result["paths"].values():
        for operation in operations.values():
            security = operation.get("security", [])
            if {} in security or not any("tokenAuth" in scheme for scheme in security):
                continue
            operation["responses"].setdefault(
                "401",
                {
                    "description": UNAUTHORIZED,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOutput"}}
                    },
                },
            )
    return result
