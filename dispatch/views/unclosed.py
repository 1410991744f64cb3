"""The daily list of unclosed tickets (未结工单清单), with the dispatcher's plan for each."""

from datetime import date

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from dispatch import services
from dispatch.forms import UnclosedPlanForm
from dispatch.selectors import ticket_open_reason, unclosed_tickets
from tickets.errors import ApplicationError
from tickets.forms import show_service_errors
from tickets.selectors import ticket_get_for_user

_dispatcher = permission_required("tickets.dispatch_ticket", raise_exception=True)


def _day(value: str | None) -> date:
    try:
        day = date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        return timezone.localdate()
    return min(day, timezone.localdate())


@never_cache
@login_required
@_dispatcher
def unclosed_list(request: HttpRequest) -> HttpResponse:
    day = _day(request.GET.get("day"))
    tickets = unclosed_tickets(user=request.user, day=day)
    for ticket in tickets:
        initial = {"reason": ticket.open_reason}
        if ticket.plan:
            initial = {"reason": ticket.plan.reason, "plan": ticket.plan.plan}
        ticket.plan_form = UnclosedPlanForm(initial=initial, prefix=ticket.number)
    return render(
        request,
        "dispatch/unclosed.html",
        {"day": day, "today": timezone.localdate(), "tickets": tickets},
    )


@login_required
@_dispatcher
@require_POST
def unclosed_plan(request: HttpRequest, number: str) -> HttpResponse:
    """Save one ticket's plan for the day; answer with its row again."""
    day = _day(request.POST.get("day"))
    ticket = ticket_get_for_user(user=request.user, number=number)
    form = UnclosedPlanForm(request.POST, prefix=number)
    saved = False
    if form.is_valid():
        try:
            ticket.plan = services.unclosed_plan_write(
                actor=request.user, ticket=ticket, day=day, **form.cleaned_data
            )
            saved = True
        except ApplicationError as error:
            show_service_errors(form, error)
    if not saved:
        ticket.plan = None
    ticket.open_reason = ticket_open_reason(ticket)
    ticket.plan_form = form
    return render(
        request,
        "dispatch/_unclosed_row.html",
        {"ticket": ticket, "day": day, "saved": saved},
        status=200 if saved else 400,
    )
