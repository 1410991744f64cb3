from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView

from callcentre import views
from callcentre.api import CtiEventView, FaqSearchView
from followups.api import CalendarView, CallbackQueueView, CallbackRecordView
from outages import views as outage_views
from outages.api import CtiNoticeView
from staffing.api import ErlangView
from tickets.alert_api import AlertAcknowledgeView, AlertDelayCauseView, AlertListView
from tickets.api import AuthTokenView

# An address nothing answers: JSON under /api/ and /open311/, the error page elsewhere.
handler404 = "callcentre.not_found.page_not_found"
# A database that is down is a 503 wherever in the request it shows, not a 500.
handler500 = "tickets.middleware.server_error"

api_v1 = [
    path("auth/token/", AuthTokenView.as_view(), name="api-token"),
    path("cti/events/", CtiEventView.as_view(), name="api-cti-events"),
    path("cti/notices/", CtiNoticeView.as_view(), name="api-cti-notices"),
    path("faq/", FaqSearchView.as_view(), name="api-faq"),
    path("calendar/", CalendarView.as_view(), name="api-calendar"),
    path("callbacks/", CallbackQueueView.as_view(), name="api-callbacks"),
    path("callbacks/<int:pk>/record/", CallbackRecordView.as_view(), name="api-callback-record"),
    path("alerts/", AlertListView.as_view(), name="api-alerts"),
    path("alerts/<int:pk>/acknowledge/", AlertAcknowledgeView.as_view(), name="api-alert-ack"),
    path("alerts/<int:pk>/cause/", AlertDelayCauseView.as_view(), name="api-alert-cause"),
    path("staffing/erlang/", ErlangView.as_view(), name="api-erlang"),
    path("", include("tickets.api_urls")),
]

console = [
    path("", views.console, name="console"),
    path("done/<str:number>/", views.console_done, name="console-done"),
    path("answered/", views.console_answered, name="console-answered"),
    path("link/<str:number>/", views.console_link, name="console-link"),
    path("caller/", views.console_caller, name="console-caller"),
    path("place/", views.console_place, name="console-place"),
    path("communities/", views.console_communities, name="console-communities"),
    path("faq/", views.console_faq, name="console-faq"),
    path("pop/", views.console_pop, name="console-pop"),
]

urlpatterns = [
    path("console/", include(console)),
    path("ledger/", views.ledger, name="ledger"),
    path("", include("staffing.urls")),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("tickets/", include("tickets.urls")),
    path("alerts/", include("tickets.alert_urls")),
    path("reports/", include("reports.urls")),
    path("staffing/", include("staffing.floor_urls")),
    path("dispatch/", include("dispatch.urls")),
    path("crew/", include("dispatch.crew_urls")),
    path("callbacks/", include("followups.urls")),
    # Public pages (no login): a ticket's status and its completion slip.
    path("status/", include("tickets.public_urls")),
    path("notices/", outage_views.public_notices, name="public-notices"),
    path("outages/", include("outages.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("open311/", include("callcentre.open311.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.ApiDocsView.as_view(), name="api-docs"),
]

admin.site.site_header = admin.site.site_title = _("Repair call centre")
