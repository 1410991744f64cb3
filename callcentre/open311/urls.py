"""GeoReport v2's paths, each twice: ``services.json`` and ``services.xml`` are one view
with the renderer of their format, so that the schema describes each as what it returns."""

from django.urls import path, re_path

from callcentre.open311 import views
from callcentre.open311.documents import Open311JSONRenderer, Open311XMLRenderer

RENDERERS = {"json": Open311JSONRenderer, "xml": Open311XMLRenderer}


def _in_both_formats(route: str, view: type[views.Open311View], name: str) -> list:
    return [
        re_path(
            rf"^{route}\.{format}$",
            view.as_view(renderer_classes=[renderer]),
            {"format": format},
            name=name,
        )
        for format, renderer in RENDERERS.items()
    ]


urlpatterns = [
    *_in_both_formats("discovery", views.DiscoveryView, "open311-discovery"),
    path(
        "v2/",
        views.DiscoveryView.as_view(renderer_classes=[Open311JSONRenderer]),
        {"format": "json"},
        name="open311-root",
    ),
    *_in_both_formats("v2/services", views.ServiceListView, "open311-services"),
    *_in_both_formats(
        r"v2/services/(?P<code>[-\w]+)", views.ServiceDefinitionView, "open311-service"
    ),
    *_in_both_formats("v2/requests", views.RequestListView, "open311-requests"),
    *_in_both_formats(
        r"v2/requests/(?P<number>[-\w]+)", views.RequestDetailView, "open311-request"
    ),
    *_in_both_formats(r"v2/tokens/(?P<token>[0-9a-fA-F-]{36})", views.TokenView, "open311-token"),
]
