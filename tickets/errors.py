"""The product's one domain error, and how the API turns every failure into a clear answer."""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A request the domain refuses, with a message a person can act on.

    ``code`` picks the HTTP status: invalid 400, forbidden 403, not_found 404, conflict 409,
    unavailable 503.
    ``fields`` names the inputs that are wrong, each with its messages.
    """

    STATUS = {
        "invalid": status.HTTP_400_BAD_REQUEST,
        "forbidden": status.HTTP_403_FORBIDDEN,
        "not_found": status.HTTP_404_NOT_FOUND,
        "conflict": status.HTTP_409_CONFLICT,
        "unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
    }

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = fields or {}
        self.extra = extra or {}

    @property
    def status(self) -> int:
        return self.STATUS[self.code]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": self.fields,
            **self.extra,
        }


def invalid(fields: dict[str, str]) -> ApplicationError:
    """Return the error for inputs that are wrong, one message per field."""
    return ApplicationError(
        _("Some fields are not valid; each one says what is wrong."),
        fields={name: [str(message)] for name, message in fields.items()},
    )


def transition_refused(obj: Any, error: Exception) -> ApplicationError:
    """Translate django-fsm-2's refusals into the 409 a client can act on."""
    state = getattr(obj, "state", None)
    label = getattr(obj, "get_state_display", lambda: state)()
    if isinstance(error, ConcurrentTransition):
        message = _("Someone else changed this just now; reload it and try again.")
    else:
        message = _("This cannot be done while it is %(state)s.") % {"state": label}
    return ApplicationError(message, code="conflict", extra={"state": state})


def database_unavailable(error: Exception) -> ApplicationError | None:
    """Return the 503 for a database that did not answer (restarted, unreachable, a
    connection it dropped), else None.

    A view's transaction has rolled back whole; a failure after it (a middleware reading
    the session) may come after a commit, so the message does not promise nothing was saved.
    """
    if not isinstance(error, OperationalError | InterfaceError):
        return None
    return ApplicationError(
        _(
            "The database is not answering just now. Try again in a minute; if you were "
            "saving something, check first whether it was saved."
        ),
        code="unavailable",
    )


# How long a client told 503 waits before it tries again, in seconds.
RETRY_AFTER_SECONDS = 30


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for item in detail for message in _flatten(item)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(name): _flatten(value) for name, value in detail.items()}
    return {"non_field_errors": _flatten(detail)}


_API_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "forbidden",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}

INVALID_INPUT = gettext_lazy("Some fields are not valid.")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Return every API error as ``{"code", "message", "fields"}`` with the right status."""
    obj = getattr(exc, "object", None)
    if isinstance(exc, TransitionNotAllowed | ConcurrentTransition):
        exc = transition_refused(obj or context.get("ticket"), exc)
    exc = database_unavailable(exc) or exc
    if isinstance(exc, ApplicationError):
        response = Response(exc.as_dict(), status=exc.status)
        if exc.code == "unavailable":
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"code": "too_large", "message": _("The request is too large."), "fields": {}},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        message = str(INVALID_INPUT)
    else:
        fields = {}
        message = " ".join(_flatten(exc.detail)) if hasattr(exc, "detail") else str(exc)
    response.data = {
        "code": _API_CODES.get(response.status_code, "error"),
        "message": message,
        "fields": fields,
    }
    return response
