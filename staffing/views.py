from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from followups.workdays import calendar_gaps
from staffing import services
from staffing.forms import DayForm, RosterEntryForm, SeatSignInForm, StatusForm, WallboardForm
from staffing.models import ForecastAccuracy, RosterEntry, Seat
from staffing.planning import day_plan
from staffing.roles import Role
from staffing.selectors import (
    home_summary_for_user,
    home_tickets_for_user,
    my_roster_entry,
    my_status,
    ratios_of,
    roster_of,
    seats_free,
    staffing_settings,
)
from staffing.services import CONSOLE_STATUSES
from staffing.wallboard import board
from tickets.errors import ApplicationError, invalid
from tickets.forms import show_service_errors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the signed-in person the home page of their role."""
    role = request.user.primary_role
    if role == Role.ADMIN:
        return redirect("admin:index")
    if role == Role.CREW_MEMBER:
        return redirect("crew:home")  # the crew's phone opens on its work
    return render(
        request,
        "staffing/home.html",
        {
            "role": role,
            "summary": home_summary_for_user(user=request.user),
            "tickets": home_tickets_for_user(user=request.user),
            "shift_entry": my_roster_entry(person=request.user, now=timezone.now()),
            # Whoever keeps the calendar hears of a year it cannot count working days in.
            "calendar_gaps": calendar_gaps(today=timezone.localdate())
            if request.user.has_perm("followups.change_workingdayoverride")
            else [],
        },
    )


# The console's seat and status panel ----------------------------------------------------


def _my_status(request: HttpRequest, *, error: ApplicationError | None = None) -> HttpResponse:
    session, spell = my_status(agent=request.user)
    free = [] if session is not None else seats_free()
    return render(
        request,
        "staffing/_my_status.html",
        {
            "session": session,
            "spell": spell,
            "sign_in_form": SeatSignInForm(seats=free),
            "free_seats": free,
            "statuses": CONSOLE_STATUSES,
            "error": error,
        },
        status=error.status if error is not None else 200,
    )


@login_required
@permission_required("tickets.add_ticket", raise_exception=True)
def my_status_panel(request: HttpRequest) -> HttpResponse:
    """The agent's seat and status, polled by the console so the switch's changes show."""
    return _my_status(request)


@login_required
@permission_required("tickets.add_ticket", raise_exception=True)
@require_POST
def my_status_change(request: HttpRequest) -> HttpResponse:
    """Sign in at a seat, sign out, or change status; answers with the panel again."""
    now = timezone.now()
    action = request.POST.get("action")
    try:
        if action == "sign_in":
            form = SeatSignInForm(request.POST, seats=seats_free())
            if not form.is_valid():
                raise invalid({"seat": _("Choose a free seat.")})
            services.seat_sign_in(agent=request.user, seat=form.cleaned_data["seat"], at=now)
        elif action == "sign_out":
            services.seat_sign_out(agent=request.user, at=now)
        else:
            form = StatusForm(request.POST)
            if not form.is_valid():
                raise invalid(
                    {"status": _("Choose available, after-call work, break or training.")}
                )
            services.status_set(agent=request.user, status=form.cleaned_data["status"], at=now)
    except ApplicationError as error:
        if request.htmx:
            return _my_status(request, error=error)
        raise
    if request.htmx:
        return _my_status(request)
    return redirect(request.POST.get("next") or "console")


# The wallboard -------------------------------------------------------------------------


def _within(request: HttpRequest) -> int:
    form = WallboardForm(request.GET)
    if form.is_valid():
        return form.cleaned_data["within"]
    return staffing_settings().service_level_seconds


@login_required
@permission_required("staffing.view_wallboard", raise_exception=True)
def wallboard(request: HttpRequest) -> HttpResponse:
    within = _within(request)
    return render(
        request,
        "staffing/wallboard.html",
        {
            "board": board(now=timezone.now(), within=within),
            "form": WallboardForm(initial={"within": within}),
            "can_switch": request.user.has_perm("staffing.switch_seat"),
        },
    )


@login_required
@permission_required("staffing.view_wallboard", raise_exception=True)
def wallboard_live(request: HttpRequest) -> HttpResponse:
    """The wallboard's figures and seats, which the page fetches every few seconds."""
    return render(
        request,
        "staffing/_wallboard.html",
        {
            "board": board(now=timezone.now(), within=_within(request)),
            "can_switch": request.user.has_perm("staffing.switch_seat"),
        },
    )


@login_required
@permission_required("staffing.switch_seat", raise_exception=True)
@require_POST
def seat_switch(request: HttpRequest, pk: int) -> HttpResponse:
    seat = get_object_or_404(Seat, pk=pk)
    on = request.POST.get("on") == "1"
    try:
        seat = services.seat_switch(seat=seat, on=on)
    except ApplicationError as error:
        if not request.htmx:
            raise
        messages.error(request, error.message)
    else:
        if on:
            message = _("Floating seat %(seat)s is switched on.")
        else:
            message = _("Floating seat %(seat)s is switched off.")
        messages.success(request, message % {"seat": seat.label})
    if request.htmx:
        return wallboard_live(request)
    return redirect("staffing:wallboard")


# Rosters and attendance ----------------------------------------------------------------


@login_required
@permission_required("staffing.plan_staffing", raise_exception=True)
def roster(request: HttpRequest) -> HttpResponse:
    """A day's roster by shift, with attendance and the staffing ratios; a POST adds one."""
    day = DayForm(request.GET).day_or_today()
    form = RosterEntryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                entry = services.roster_add(day=day, **form.cleaned_data)
            except ApplicationError as error:
                show_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("%(person)s is on the %(shift)s shift.")
                    % {"person": entry.person, "shift": entry.shift.name},
                )
                return redirect(f"{reverse('staffing:roster')}?day={day.isoformat()}")
        status = 400
    return render(
        request,
        "staffing/roster.html",
        {
            "day": day,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "shifts": roster_of(day=day, now=timezone.now()),
            "ratios": ratios_of(day=day),
            "form": form,
        },
        status=status,
    )


@login_required
@permission_required("staffing.plan_staffing", raise_exception=True)
@require_POST
def roster_remove(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(RosterEntry.objects.select_related("person"), pk=pk)
    services.roster_remove(entry=entry)
    messages.success(request, _("%(person)s is off the roster.") % {"person": entry.person})
    return redirect(f"{reverse('staffing:roster')}?day={entry.day.isoformat()}")


@login_required
@permission_required("staffing.plan_staffing", raise_exception=True)
@require_POST
def roster_copy(request: HttpRequest) -> HttpResponse:
    """Copy the same weekday's roster of last week into the day."""
    day = DayForm(request.POST).day_or_today()
    added = services.roster_copy(source=day - timedelta(weeks=1), target=day)
    messages.success(
        request,
        ngettext(
            "%(count)d entry copied from last week.",
            "%(count)d entries copied from last week.",
            added,
        )
        % {"count": added},
    )
    return redirect(f"{reverse('staffing:roster')}?day={day.isoformat()}")


@login_required
@require_POST
def shift_attendance(request: HttpRequest) -> HttpResponse:
    """Sign in for one's shift, or out of it, from the home page."""
    now = timezone.now()
    if request.POST.get("action") == "sign_out":
        if services.attendance_sign_out(person=request.user, at=now) is None:
            messages.error(request, _("You have not signed in for a shift."))
        else:
            messages.success(request, _("Signed out of your shift."))
    elif services.attendance_sign_in(person=request.user, at=now) is None:
        messages.error(request, _("You are not on the roster now; ask the shift leader."))
    else:
        messages.success(request, _("Signed in for your shift."))
    return redirect("home")


# Planning ------------------------------------------------------------------------------


@login_required
@permission_required("staffing.plan_staffing", raise_exception=True)
def planning(request: HttpRequest) -> HttpResponse:
    """A day's calls forecast per half-hour, the agents they need against the roster, and
    how well the recent days were forecast and scheduled."""
    day = DayForm(request.GET).day_or_today()
    now = timezone.now()
    plan = day_plan(day=day, now=now)
    return render(
        request,
        "staffing/planning.html",
        {
            "day": day,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "plan": plan,
            "rules": staffing_settings(),
            "recorded": ForecastAccuracy.objects.filter(day=day).first(),
            "recent": ForecastAccuracy.objects.filter(day__lt=timezone.localdate(now))[:14],
        },
    )
