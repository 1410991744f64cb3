from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from callcentre.api import CtiEventView, FaqSearchView
from callcentre.views import SignInView
from tickets.api import AuthTokenView

api_v1 = [
    path("auth/token/", AuthTokenView.as_view(), name="api-token"),
    path("cti/events/", CtiEventView.as_view(), name="api-cti-events"),
    path("faq/", FaqSearchView.as_view(), name="api-faq"),
    path("", include("tickets.api_urls")),
]

urlpatterns = [
    path("", include("staffing.urls")),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("tickets/", include("tickets.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

admin.site.site_header = admin.site.site_title = _("Repair call centre")
