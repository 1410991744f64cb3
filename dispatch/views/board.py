"""The dispatcher's board: lanes of tickets that update themselves, and the send dialog."""

import hashlib

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from callcentre.templating import partial_text, render_partial
from dispatch import services
from dispatch.board import board_lanes_drawn, board_version
from dispatch.cards import lane_cards
from dispatch.forms import BoardFilterForm, SendToCrewForm, SendToDepartmentForm
from dispatch.selectors import (
    BoardFilters,
    board_lanes,
    card_names,
    crew_recommend_for_ticket,
    departments_active,
    on_duty_skill_ids,
    ticket_assignments,
    ticket_dispatch_warnings,
)
from tickets.choices import Grade
from tickets.errors import ApplicationError
from tickets.forms import show_service_errors
from tickets.selectors import ticket_get_for_user

_dispatcher = permission_required("tickets.dispatch_ticket", raise_exception=True)


def _filters(request: HttpRequest) -> tuple[BoardFilterForm, BoardFilters]:
    form = BoardFilterForm(request.GET or None)
    return form, form.filters() if form.is_bound else BoardFilters()


def _lanes_html(request: HttpRequest, filters: BoardFilters, version: str) -> str:
    # Everyone who may see every ticket sees the same lanes for the same filters.
    sees = "all" if request.user.has_perm("tickets.view_all_tickets") else request.user.pk
    key = _board_key(request, version, filters, sees, timezone.get_current_timezone_name())
    return partial_text(board_lanes_drawn(key=key, draw=lambda: _draw_lanes(request, filters)))


def _draw_lanes(request: HttpRequest, filters: BoardFilters) -> str:
    now = timezone.now()
    lanes = board_lanes(user=request.user, filters=filters, now=now)
    shown = lane_cards(
        lanes, names=card_names(lanes=lanes), skills_on_duty=on_duty_skill_ids(), now=now
    )
    return render_partial("dispatch/_lanes.html", {"lanes": shown, "no_tickets": _("No tickets")})


def _board_key(request: HttpRequest, version: str, filters: BoardFilters, *more) -> str:
    """Return a short hash naming one look at one version of the board."""
    parts = [version, get_language(), request.GET.urlencode(), *map(str, more)]
    if filters.overdue:
        # Tickets fall overdue as time passes, with no change to announce it.
        parts.append(timezone.now().strftime("%Y%m%d%H%M"))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def _etag(request: HttpRequest, version: str, filters: BoardFilters) -> str:
    return f'"{_board_key(request, version, filters, request.user.pk)}"'


@never_cache
@login_required
@_dispatcher
def board(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    version = board_version()
    context = {
        "form": form,
        "etag": _etag(request, version, filters),
        "lanes": _lanes_html(request, filters, version),
        "query": request.GET.urlencode(),
    }
    return render(request, "dispatch/board.html", context)


@never_cache
@login_required
@_dispatcher
@require_GET
def board_lanes_partial(request: HttpRequest) -> HttpResponse:
    """Answer the board's poll: 304 while nothing changed, else the lanes to merge in."""
    _form, filters = _filters(request)
    # Read before the tickets: a change committed in between moves the version again, so
    # the next poll fetches it.
    version = board_version()
    etag = _etag(request, version, filters)
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(_lanes_html(request, filters, version))
    response["ETag"] = etag
    return response


def _send_context(request: HttpRequest, ticket, form=None) -> dict:
    if ticket.grade == Grade.CONSULT:
        form = form or SendToDepartmentForm()
        return {"ticket": ticket, "form": form, "departments": departments_active()}
    recommendations = crew_recommend_for_ticket(ticket=ticket)
    if form is None:
        first = recommendations[0].crew.pk if recommendations else None
        form = SendToCrewForm(initial={"crew": first})
    return {
        "ticket": ticket,
        "form": form,
        "recommendations": recommendations,
        "warnings": ticket_dispatch_warnings(ticket=ticket, skills_on_duty=on_duty_skill_ids()),
        "assignments": ticket_assignments(ticket=ticket),
    }


@never_cache
@login_required
@_dispatcher
def send(request: HttpRequest, number: str) -> HttpResponse:
    """The send dialog: the recommended crews (or the departments, for a consult)."""
    ticket = ticket_get_for_user(user=request.user, number=number)
    if request.method != "POST":
        return render(request, "dispatch/_send_dialog.html", _send_context(request, ticket))
    consult = ticket.grade == Grade.CONSULT
    form = (SendToDepartmentForm if consult else SendToCrewForm)(request.POST)
    if form.is_valid():
        try:
            if consult:
                services.ticket_send_to_department(
                    actor=request.user, ticket=ticket, **form.cleaned_data
                )
            else:
                services.ticket_send_to_crew(actor=request.user, ticket=ticket, **form.cleaned_data)
        except ApplicationError as error:
            show_service_errors(form, error)
        else:
            response = HttpResponse(status=204)
            response["HX-Trigger"] = "board-changed"
            return response
    context = _send_context(request, ticket, form)
    return render(request, "dispatch/_send_dialog.html", context, status=400)
