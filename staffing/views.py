from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from followups.workdays import calendar_gaps
from staffing.roles import Role
from staffing.selectors import home_summary_for_user, home_tickets_for_user


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
            # Whoever keeps the calendar hears of a year it cannot count working days in.
            "calendar_gaps": calendar_gaps(today=timezone.localdate())
            if request.user.has_perm("followups.change_workingdayoverride")
            else [],
        },
    )
