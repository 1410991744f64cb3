"""Pages without a login: a ticket's status for the customer, and the completion slip.

The slip (《工单完成确认单》) is one template for the customer, the staff and the PDF.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from callcentre.pdf import pdf_from_html
from tickets import status
from tickets.choices import State
from tickets.errors import ApplicationError
from tickets.models import Ticket
from tickets.selectors import ticket_get_for_user
from tickets.status import slip_url, status_token, status_url

# Other code builds the customer's links (the closing SMS) from here.
__all__ = [
    "slip_for_staff",
    "slip_pdf_for_staff",
    "slip_url",
    "status_lookup",
    "status_show",
    "status_slip",
    "status_slip_pdf",
    "status_token",
    "status_url",
]


class StatusLookupForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Ticket number"),
        max_length=20,
        help_text=gettext_lazy("As told on the phone or in the SMS, e.g. 261116-0007."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    # One check, so that a wrong entry gets one message, not one per rule it breaks.
    digits = forms.CharField(
        label=gettext_lazy("Last 4 digits of your phone number"),
        validators=[
            RegexValidator(r"^[0-9]{4}\Z", gettext_lazy("Enter the last 4 digits, e.g. 5678."))
        ],
        help_text=gettext_lazy("Of the phone number you gave when you reported the fault."),
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "pattern": "[0-9]{4}",
                "maxlength": "4",
            }
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _not_found(request: HttpRequest) -> HttpResponse:
    # One answer for a forged link, an unknown ticket and a slip that does not exist yet.
    return render(request, "tickets/status_not_found.html", status=404)


def _pdf_response(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    context = {**status.slip_context(ticket), "pdf": True}
    html = render(request, "tickets/slip.html", context).content.decode()
    response = HttpResponse(pdf_from_html(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{ticket.number}.pdf"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def status_lookup(request: HttpRequest) -> HttpResponse:
    """Show the look-up form; on a match, go to the ticket's status page."""
    if request.method == "GET":
        return render(request, "tickets/status_lookup.html", {"form": StatusLookupForm()})
    wait = status.lookup_rate_check(address=request.META.get("REMOTE_ADDR", ""))
    if wait:
        response = render(
            request,
            "tickets/status_lookup.html",
            {"form": StatusLookupForm(), "throttled": True},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    form = StatusLookupForm(request.POST)
    if not form.is_valid():
        return render(request, "tickets/status_lookup.html", {"form": form}, status=400)
    ticket = status.ticket_lookup(**form.cleaned_data)
    if ticket is None:
        # A fresh form: echoing the number back would tell apart the two ways to miss.
        context = {"form": StatusLookupForm(), "no_match": True}
        return render(request, "tickets/status_lookup.html", context)
    return redirect("status:show", token=status_token(ticket))


@never_cache
@require_GET
def status_show(request: HttpRequest, token: str) -> HttpResponse:
    """Show the ticket's state and its timeline as the customer reads them."""
    ticket = status.ticket_for_token(token)
    if ticket is None:
        return _not_found(request)
    context = {
        "ticket": ticket,
        "token": token,
        "caller_name": status.mask_name(ticket.caller_name),
        "caller_phone": status.mask_phone(ticket),
        "timeline": status.public_timeline(ticket),
        "expected": status.expected_times(ticket),
        "has_slip": ticket.state == State.CLOSED,
    }
    return render(request, "tickets/status_show.html", context)


@never_cache
@require_GET
def status_slip(request: HttpRequest, token: str) -> HttpResponse:
    """Show the printable completion slip of a closed ticket."""
    if status.number_from_token(token) is None:
        return _not_found(request)
    ticket = status.slip_ticket_for_token(token)
    if ticket is None:
        # Reopened since the SMS, say: the status page says where the work stands.
        return redirect("status:show", token=token)
    context = {**status.slip_context(ticket), "token": token}
    return render(request, "tickets/slip.html", context)


@never_cache
@require_GET
def status_slip_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """Return the completion slip of a closed ticket as a PDF."""
    ticket = status.slip_ticket_for_token(token)
    if ticket is None:
        return _not_found(request)
    return _pdf_response(request, ticket)


def _closed_for_staff(request: HttpRequest, number: str) -> Ticket:
    ticket = ticket_get_for_user(user=request.user, number=number)
    if ticket.state != State.CLOSED:
        raise ApplicationError(
            _("Ticket %(number)s is %(state)s; its completion slip exists once it is closed.")
            % {"number": ticket.number, "state": ticket.get_state_display()},
            code="not_found",
        )
    return ticket


@never_cache
@login_required
@require_GET
def slip_for_staff(request: HttpRequest, number: str) -> HttpResponse:
    """Show the printable completion slip of a closed ticket the user may see."""
    ticket = _closed_for_staff(request, number)
    return render(request, "tickets/slip.html", {**status.slip_context(ticket), "staff": True})


@never_cache
@login_required
@require_GET
def slip_pdf_for_staff(request: HttpRequest, number: str) -> HttpResponse:
    """Return the completion slip of a closed ticket the user may see, as a PDF."""
    return _pdf_response(request, _closed_for_staff(request, number))
