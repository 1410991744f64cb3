from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from tickets.errors import ApplicationError, transition_refused


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
