import sys
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from tickets.errors import (
    RETRY_AFTER_SECONDS,
    ApplicationError,
    database_unavailable,
    transition_refused,
)


class ApplicationErrorMiddleware:
    """Turn a refused action on a page into a message the person can act on, never a 500.

    A refused form post goes back where it came from with the message shown; an htmx
    request gets the message as a partial; a page that cannot be shown (not found, not
    allowed) gets an error page with the error's status.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        unavailable = database_unavailable(exception)
        if unavailable is not None:
            return _unavailable(request, unavailable)
        if request.path.startswith("/api/"):
            return None
        if isinstance(exception, TransitionNotAllowed | ConcurrentTransition):
            exception = transition_refused(getattr(exception, "object", None), exception)
        if not isinstance(exception, ApplicationError):
            return None
        if getattr(request, "htmx", False):
            template = "_error.html"
        elif request.method == "POST" and exception.code in ("invalid", "conflict"):
            problems = [problem for found in exception.fields.values() for problem in found]
            messages.error(request, " ".join([str(exception.message), *problems]))
            back = request.headers.get("referer", "")
            if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
                back = request.path
            return HttpResponseRedirect(back)
        else:
            template = "error_page.html"
        return TemplateResponse(
            request, template, {"error": exception}, status=exception.status
        ).render()


def _unavailable(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    """Return the 503 of a database that is down: JSON for the API, else a page drawn
    without the request's context (which would ask the database who is signed in)."""
    if request.path.startswith("/api/"):
        response = JsonResponse(error.as_dict(), status=error.status)
    else:
        template = "_error.html" if getattr(request, "htmx", False) else "unavailable.html"
        response = HttpResponse(render_to_string(template, {"error": error}), status=error.status)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500. A database that went away outside a view (a middleware asking
    who is signed in) is the same 503 as in one; anything else is the plain 500."""
    unavailable = database_unavailable(sys.exc_info()[1])
    if unavailable is not None:
        return _unavailable(request, unavailable)
    return defaults.server_error(request)
