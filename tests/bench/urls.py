"""The product's URLs plus the bare create endpoint the benchmark compares against."""

from django.urls import path

from callcentre.urls import urlpatterns as product_urlpatterns
from tests.bench.views import BareTicketCreateView

urlpatterns = [
    path("bench/bare-tickets/", BareTicketCreateView.as_view(), name="bench-bare-tickets"),
    *product_urlpatterns,
]
