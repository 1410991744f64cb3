"""The crew's phone: its tickets, and every action on them as a plain form that works slowly.

Each form carries a receipt key: a submission the network retried acts once, and the crew
sees the ticket as it is now.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from callcentre.templating import render_partial
from dispatch import forms, services
from dispatch.cards import crew_rows
from dispatch.selectors import CREW_LIST_SIZE, crew_of_user, crew_ticket_list
from tickets import services as ticket_services
from tickets.actions import ticket_actions_for_user
from tickets.choices import ExtensionState, State
from tickets.errors import ApplicationError
from tickets.forms import show_service_errors
from tickets.receipts import acting_once
from tickets.selectors import (
    ticket_get_for_user,
    ticket_milestone_rows,
    ticket_with_history,
)

_crew_member = permission_required("tickets.view_crew_tickets", raise_exception=True)

# Each action: the form that reads it, the service that does it, and what it is called.
_ACTIONS = {
    "accept": (forms.CrewActionForm, ticket_services.ticket_accept),
    "decline": (forms.CrewDeclineForm, ticket_services.ticket_decline),
    "arrive": (forms.CrewActionForm, ticket_services.ticket_arrive),
    "mitigate": (forms.CrewMitigateForm, ticket_services.ticket_mitigate),
    "photos": (forms.CrewPhotosForm, ticket_services.repair_photos_add),
    "request-extension": (forms.CrewExtensionRequestForm, ticket_services.extension_request),
}
_DONE = {
    "accept": gettext_lazy("Accepted. Go safely."),
    "decline": gettext_lazy("Declined; the ticket is back with the dispatcher."),
    "arrive": gettext_lazy("Arrival recorded."),
    "mitigate": gettext_lazy("Water stop recorded."),
    "complete": gettext_lazy("Completed; the dispatcher will review the report."),
    "photos": gettext_lazy("Photos added."),
    "request-extension": gettext_lazy("Extension requested; the crew leader decides it."),
    "decide-extension": gettext_lazy("Decision recorded."),
}


def _crew_or_404(request: HttpRequest):
    crew = crew_of_user(user=request.user)
    if crew is None:
        raise Http404
    return crew


@never_cache
@login_required
@_crew_member
def crew_home(request: HttpRequest) -> HttpResponse:
    crew = crew_of_user(user=request.user)
    rows = crew_ticket_list(crew=crew, limit=CREW_LIST_SIZE) if crew else []
    tickets = crew_rows(rows, now=timezone.now())
    return render(
        request,
        "dispatch/crew_home.html",
        {
            "crew": crew,
            "tickets": tickets,
            "crew_list": render_partial("dispatch/_crew_list.html", {"tickets": tickets}),
            "limit": CREW_LIST_SIZE,
        },
    )


@login_required
@_crew_member
@require_POST
def crew_duty(request: HttpRequest) -> HttpResponse:
    crew = _crew_or_404(request)
    form = forms.DutyForm(request.POST)
    if form.is_valid():
        services.crew_duty_set(actor=request.user, crew=crew, on_duty=form.cleaned_data["on_duty"])
        messages.success(
            request, _("You are on duty.") if crew.is_on_duty else _("You are off duty.")
        )
    return redirect("crew:home")


def _ticket_context(request: HttpRequest, ticket, bound: dict | None = None) -> dict:
    """Return the ticket page with a blank form (and a fresh receipt) for each action."""
    bound = bound or {}
    ticket = ticket_with_history(ticket)
    crew = ticket.crew
    is_leader = crew is not None and crew.is_led_by(request.user)

    def blank(form_class, **kwargs):
        return form_class(initial={"receipt": _new_receipt()}, **kwargs)

    action_forms = {
        name: bound.get(name) or blank(form_class) for name, (form_class, _s) in _ACTIONS.items()
    }
    action_forms["complete"] = bound.get("complete") or blank(forms.CrewCompleteForm)
    part_lines = bound.get("part_lines") or forms.PartLineFormSet(prefix="part")
    cost_lines = bound.get("cost_lines") or forms.CostLineFormSet(prefix="cost")
    pending = [e for e in ticket.extension_list if e.state == ExtensionState.PENDING]
    for extension in pending:
        extension.form = blank(forms.CrewExtensionDecisionForm)
        extension.form.initial["extension"] = extension.pk
    possible = {action.slug for action in ticket_actions_for_user(ticket=ticket, user=request.user)}
    return {
        "ticket": ticket,
        "forms": action_forms,
        "part_lines": part_lines,
        "cost_lines": cost_lines,
        "can": possible,
        "is_leader": is_leader,
        "pending_extensions": pending if is_leader else [],
        "milestones": ticket_milestone_rows(ticket=ticket, now=timezone.now()),
        "photos": list(ticket.photos.all()),
        "working": ticket.state in (State.ACCEPTED, State.ON_SITE, State.MITIGATED),
    }


def _new_receipt() -> str:
    return str(uuid.uuid4())


@never_cache
@login_required
@_crew_member
def crew_ticket(request: HttpRequest, number: str) -> HttpResponse:
    ticket = ticket_get_for_user(user=request.user, number=number)
    return render(request, "dispatch/crew_ticket.html", _ticket_context(request, ticket))


def _report_position(request: HttpRequest, form, ticket) -> None:
    latitude = form.cleaned_data.get("latitude")
    longitude = form.cleaned_data.get("longitude")
    if latitude is not None and longitude is not None and ticket.crew is not None:
        services.crew_position_report(
            actor=request.user, crew=ticket.crew, latitude=latitude, longitude=longitude
        )


@login_required
@_crew_member
@require_POST
def crew_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Run one crew action on the ticket and come back to it (or to the list)."""
    ticket = ticket_get_for_user(user=request.user, number=number)
    if action == "complete":
        return _complete(request, ticket)
    if action == "decide-extension":
        return _decide_extension(request, ticket)
    if action not in _ACTIONS:
        raise Http404
    form_class, service = _ACTIONS[action]
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            with acting_once(
                user=request.user, key=form.cleaned_data["receipt"], ticket=ticket, action=action
            ) as first:
                if first:
                    service(actor=request.user, ticket=ticket, **form.service_arguments())
                    _report_position(request, form, ticket)
        except ApplicationError as error:
            show_service_errors(form, error)
        else:
            return _done(request, action, number)
    context = _ticket_context(request, ticket, {action: form})
    context["open_action"] = action
    return render(request, "dispatch/crew_ticket.html", context, status=400)


def _done(request: HttpRequest, action: str, number: str) -> HttpResponse:
    messages.success(request, _DONE[action])
    if action == "decline":
        return redirect("crew:home")  # the ticket is no longer the crew's
    return redirect("crew:ticket", number=number)


def _complete(request: HttpRequest, ticket) -> HttpResponse:
    form = forms.CrewCompleteForm(request.POST, request.FILES)
    part_lines = forms.PartLineFormSet(request.POST, prefix="part")
    cost_lines = forms.CostLineFormSet(request.POST, prefix="cost")
    if form.is_valid() and part_lines.is_valid() and cost_lines.is_valid():
        try:
            with acting_once(
                user=request.user,
                key=form.cleaned_data["receipt"],
                ticket=ticket,
                action="complete",
            ) as first:
                if first:
                    ticket_services.ticket_resolve(
                        actor=request.user,
                        ticket=ticket,
                        part_lines=[line for f in part_lines if (line := f.line())],
                        cost_lines=[line for f in cost_lines if (line := f.line())],
                        **form.service_arguments(),
                    )
        except ApplicationError as error:
            show_service_errors(form, error)
        else:
            return _done(request, "complete", ticket.number)
    bound = {"complete": form, "part_lines": part_lines, "cost_lines": cost_lines}
    context = _ticket_context(request, ticket, bound)
    context["open_action"] = "complete"
    return render(request, "dispatch/crew_ticket.html", context, status=400)


def _decide_extension(request: HttpRequest, ticket) -> HttpResponse:
    form = forms.CrewExtensionDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or refuse."))
        return redirect("crew:ticket", number=ticket.number)
    extension = ticket.extensions.filter(pk=form.cleaned_data["extension"]).first()
    if extension is None:
        raise Http404
    with acting_once(
        user=request.user,
        key=form.cleaned_data["receipt"],
        ticket=ticket,
        action="decide-extension",
    ) as first:
        if first:
            ticket_services.extension_decide(
                actor=request.user,
                extension=extension,
                approve=form.cleaned_data["approve"],
                note=form.cleaned_data["note"],
            )
    return _done(request, "decide-extension", ticket.number)
