"""The supervisor's dashboard: today or this month at a glance, refreshed in place."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from reports.charts import dashboard_charts
from reports.dashboard import MONTH, TODAY, dashboard_figures, span_of

SPAN_LABELS = [(TODAY, _("Today")), (MONTH, _("This month"))]


@never_cache
@login_required
@permission_required("reports.view_reports", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = dashboard_figures(span=span_of(request.GET.get("period"), now=timezone.now()))
    # The page asks for its figures again every few minutes (htmx) and swaps them in.
    template = "reports/_dashboard.html" if request.htmx else "reports/dashboard.html"
    return render(
        request,
        template,
        {"dashboard": figures, "charts": dashboard_charts(figures), "spans": SPAN_LABELS},
    )
