from django.urls import path, re_path

from callcentre.open311 import views

FORMAT = r"\.(?P<format>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.DiscoveryView.as_view(), name="open311-discovery"),
    path("v2/", views.DiscoveryView.as_view(), {"format": "json"}, name="open311-root"),
    re_path(r"^v2/services" + FORMAT, views.ServiceListView.as_view(), name="open311-services"),
    re_path(
        r"^v2/services/(?P<code>[-\w]+)" + FORMAT,
        views.ServiceDefinitionView.as_view(),
        name="open311-service",
    ),
    re_path(r"^v2/requests" + FORMAT, views.RequestListView.as_view(), name="open311-requests"),
    re_path(
        r"^v2/requests/(?P<number>[-\w]+)" + FORMAT,
        views.RequestDetailView.as_view(),
        name="open311-request",
    ),
    re_path(
        r"^v2/tokens/(?P<token>[0-9a-fA-F-]{36})" + FORMAT,
        views.TokenView.as_view(),
        name="open311-token",
    ),
]
