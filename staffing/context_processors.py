from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from tickets.selectors import user_receives_alerts


def navigation(request: HttpRequest) -> dict:
    """Return the navigation links the signed-in person's role may use.

    Worked out only when a page shows them: the partials a page fetches every few seconds
    are drawn with the same context and never do.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": [], "demo_mode": settings.DEMO_MODE, "receives_alerts": False}
    return {
        "nav_links": SimpleLazyObject(lambda: _links(user)),
        "demo_mode": settings.DEMO_MODE,
        "receives_alerts": SimpleLazyObject(lambda: user_receives_alerts(user)),
    }


def _links(user) -> list[tuple[str, str]]:
    links = [(reverse("home"), _("Home"))]
    if user.has_perm("tickets.add_ticket"):
        links.append((reverse("console"), _("Console")))
    if user.has_perm("tickets.dispatch_ticket"):
        links.append((reverse("dispatch:board"), _("Board")))
        links.append((reverse("dispatch:unclosed"), _("Unclosed")))
    if user.has_perm("tickets.view_crew_tickets"):
        links.append((reverse("crew:home"), _("My crew")))
    links.append((reverse("tickets:list"), _("Tickets")))
    if user.has_perm("outages.view_outage"):
        links.append((reverse("outages:list"), _("Outages")))
    if user.has_perm("followups.record_callback"):
        links.append((reverse("followups:queue"), _("Callbacks")))
    if user.has_perm("tickets.review_ticket"):
        links.append((reverse("tickets:review"), _("Re-check")))
        links.append((reverse("ledger"), _("Special events")))
    if user.has_perm("staffing.view_wallboard"):
        links.append((reverse("staffing:wallboard"), _("Wallboard")))
    if user.has_perm("staffing.plan_staffing"):
        links.append((reverse("staffing:planning"), _("Staffing")))
    if user.has_perm("reports.view_reports"):
        links.append((reverse("reports:dashboard"), _("Dashboard")))
        links.append((reverse("reports:list"), _("Reports")))
    if user.has_perm("tickets.add_ticket"):
        links.append((reverse("tickets:create"), _("New ticket")))
    if user.has_perm("tickets.view_all_tickets"):
        links.append((reverse("api-docs"), _("API")))
    if user.is_staff:
        links.append((reverse("admin:index"), _("Administration")))
    return links
