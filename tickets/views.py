"""Ticket pages: the list, the form for a new ticket, the ticket with its actions, and the
alerts on tickets' deadlines."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from tickets import forms, services
from tickets.actions import ACTIONS, ticket_actions_for_user
from tickets.choices import TICKET_ALERT_MILESTONES
from tickets.errors import ApplicationError
from tickets.filters import TicketFilter, ticket_filter_query
from tickets.photos import photo_response
from tickets.selectors import (
    ALERT_COUNT_CAP,
    alert_get_for_user,
    alerts_for_user,
    alerts_waiting_count,
    delays_with_human_cause,
    repair_photo_get_for_user,
    ticket_detail_for_user,
    ticket_get_for_user,
    ticket_is_visible_to,
    ticket_list_for_user,
    tickets_to_review,
)

_PAGE_SIZE = 50

# Each page action: the form that reads its input and the service that carries it out.
_ACTION_FORMS = {
    "verify": (forms.EmptyForm, services.ticket_verify),
    "dispatch": (forms.DispatchForm, services.ticket_dispatch),
    "refer": (forms.ReferForm, services.ticket_refer),
    "accept": (forms.EmptyForm, services.ticket_accept),
    "decline": (forms.ReasonForm, services.ticket_decline),
    "arrive": (forms.EmptyForm, services.ticket_arrive),
    "mitigate": (forms.NoteForm, services.ticket_mitigate),
    "resolve": (forms.ResolveForm, services.ticket_resolve),
    "answer": (forms.AnswerForm, services.ticket_answer),
    "close": (forms.CloseForm, services.ticket_close),
    "cancel": (forms.ReasonForm, services.ticket_cancel),
    "reopen": (forms.ReasonForm, services.ticket_reopen),
    "reclassify": (forms.ReclassifyForm, services.ticket_reclassify),
    "request-extension": (forms.ExtensionRequestForm, services.extension_request),
    "correct": (forms.CorrectForm, services.ticket_correct),
    "review": (forms.EmptyForm, services.ticket_review),
}


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    query = ticket_filter_query(request.GET)
    tickets = TicketFilter(query, queryset=ticket_list_for_user(user=request.user))
    page_number = request.GET.get("page")
    page = Paginator(tickets.qs, _PAGE_SIZE).get_page(page_number)
    template = "tickets/_results.html" if request.htmx else "tickets/list.html"
    return render(request, template, {"filter": tickets, "page": page, "query": query.urlencode()})


@login_required
@permission_required("tickets.add_ticket", raise_exception=True)
def ticket_create(request: HttpRequest) -> HttpResponse:
    form = forms.TicketCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            forms.show_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Ticket %(number)s logged; tell the caller the number.")
                % {"number": ticket.number},
            )
            return redirect("tickets:detail", number=ticket.number)
    status = 400 if form.is_bound else 200
    return render(request, "tickets/create.html", {"form": form}, status=status)


def _detail_context(request: HttpRequest, number: str, **bound_forms) -> dict:
    ticket = ticket_detail_for_user(user=request.user, number=number)
    # Merging is done from the console, where the incident is found by address.
    actions = ticket_actions_for_user(ticket=ticket, user=request.user, exclude={"merge"})
    action_forms = {
        action.slug: bound_forms.get(action.slug) or _blank_form(action.slug, ticket)
        for action in actions
        if action.slug in _ACTION_FORMS
    }
    return {"ticket": ticket, "actions": actions, "action_forms": action_forms}


def _blank_form(slug: str, ticket):
    form_class = _ACTION_FORMS[slug][0]
    initial_for = getattr(form_class, "initial_for", None)
    return form_class(initial=initial_for(ticket) if initial_for else None)


@login_required
@permission_required("tickets.review_ticket", raise_exception=True)
def ticket_review_queue(request: HttpRequest) -> HttpResponse:
    """The shift leader's queue: new tickets to re-check, with what to look at."""
    tickets = tickets_to_review(user=request.user, now=timezone.now())
    return render(request, "tickets/review.html", {"tickets": tickets})


@login_required
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    return render(request, "tickets/detail.html", _detail_context(request, number))


@login_required
@require_POST
def ticket_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Run one action from the ticket page and come back to it."""
    if action not in ACTIONS:
        raise Http404
    ticket = ticket_get_for_user(user=request.user, number=number)
    if not request.user.has_perm(ACTIONS[action].permission):
        raise PermissionDenied  # before the form: a role that may not is told so, not "invalid"
    if action == "approve-extension":
        form = forms.ExtensionDecisionForm(request.POST)
        if form.is_valid():
            extension = ticket.extensions.filter(pk=form.cleaned_data["extension"]).first()
            if extension is None:
                raise Http404
            services.extension_decide(
                actor=request.user,
                extension=extension,
                approve=form.cleaned_data["approve"],
                note=form.cleaned_data["note"],
            )
            messages.success(request, _("Decision recorded."))
            return redirect("tickets:detail", number=number)
        messages.error(request, _("Choose approve or refuse."))
        return redirect("tickets:detail", number=number)
    if action not in _ACTION_FORMS:
        raise Http404
    form_class, service = _ACTION_FORMS[action]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(actor=request.user, ticket=ticket, **form.cleaned_data)
        except ApplicationError as error:
            forms.show_service_errors(form, error)
        else:
            messages.success(request, _("%(action)s: done.") % {"action": ACTIONS[action].label})
            if not ticket_is_visible_to(ticket=ticket, user=request.user):
                return redirect("home")  # a crew that declined no longer sees the ticket
            return redirect("tickets:detail", number=number)
    context = _detail_context(request, number, **{action: form})
    context["open_action"] = action
    return render(request, "tickets/detail.html", context, status=400)


@never_cache
@login_required
def ticket_photo(request: HttpRequest, number: str, key) -> FileResponse:
    """Serve a repair photo to those who may see its ticket; to anyone else it does not exist."""
    return photo_response(repair_photo_get_for_user(user=request.user, number=number, key=key))


# Alerts: the notification area, acknowledging, and why a deadline was missed.

_ALERT_PAGE_SIZE = 50


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    """The alerts meant for the person: those still waiting first, or every one."""
    show = "all" if request.GET.get("show") == "all" else "waiting"
    alerts = alerts_for_user(user=request.user, waiting=show == "waiting")
    page = Paginator(alerts, _ALERT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/alerts.html",
        {
            "page": page,
            "show": show,
            "waiting": alerts_waiting_count(user=request.user),
            "count_cap": ALERT_COUNT_CAP,
            "may_record_cause": request.user.has_perm("tickets.record_delay_cause"),
            "ticket_milestones": TICKET_ALERT_MILESTONES,
        },
    )


@never_cache
@login_required
def alert_badge(request: HttpRequest) -> HttpResponse:
    """The count in the top bar, fetched after the page and every half minute."""
    return render(
        request,
        "tickets/_alert_badge.html",
        {"waiting": alerts_waiting_count(user=request.user), "count_cap": ALERT_COUNT_CAP},
    )


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = alert_get_for_user(user=request.user, pk=pk)
    services.alert_acknowledge(alert=alert, actor=request.user, at=timezone.now())
    messages.success(request, _("Alert acknowledged."))
    return redirect(_back_to_alerts(request))


@login_required
@require_POST
def alerts_acknowledge(request: HttpRequest) -> HttpResponse:
    """Acknowledge the alerts listed on the page the person was looking at."""
    ids = [int(value) for value in request.POST.getlist("alert") if value.isdigit()]
    alerts = alerts_for_user(user=request.user).filter(pk__in=ids)
    count = services.alerts_acknowledge(alerts=alerts, actor=request.user, at=timezone.now())
    messages.success(request, _("%(count)d alerts acknowledged.") % {"count": count})
    return redirect(_back_to_alerts(request))


def _back_to_alerts(request: HttpRequest) -> str:
    show = request.POST.get("show")
    return reverse("alerts:list") + ("?show=all" if show == "all" else "")


@login_required
@permission_required("tickets.record_delay_cause", raise_exception=True)
def alert_delay_cause(request: HttpRequest, pk: int) -> HttpResponse:
    """Record why a ticket missed a deadline: an objective cause, or who caused it."""
    alert = alert_get_for_user(user=request.user, pk=pk)
    recorded = {
        "cause": alert.delay_cause,
        "responsible": alert.delay_responsible,
        "note": alert.delay_note,
    }
    form = forms.DelayCauseForm(request.POST or None, initial=recorded)
    if request.method == "POST" and form.is_valid():
        try:
            services.alert_delay_record(
                alert=alert, actor=request.user, at=timezone.now(), **form.cleaned_data
            )
        except ApplicationError as error:
            forms.show_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Cause of the delay on %(number)s recorded.") % {"number": alert.ticket.number},
            )
            return redirect("alerts:list")
    status = 400 if form.is_bound else 200
    return render(
        request, "tickets/alert_cause.html", {"alert": alert, "form": form}, status=status
    )


@login_required
@permission_required("tickets.view_delays", raise_exception=True)
def delay_list(request: HttpRequest) -> HttpResponse:
    """The supervisor's list of missed deadlines someone caused."""
    page = Paginator(delays_with_human_cause(), _ALERT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tickets/delays.html", {"page": page})
