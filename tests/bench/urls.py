"""The product's URLs plus the bare create endpoint the benchmark compares against."""

from django.urls import path

from callcentre.urls import urlpatterns as product_urlpatterns
from tests.bench import whatif
from tests.bench.views import BareTicketCreateView

# Empty unless a run asked for ``--what-if``: then the named product changes are tried here.
WHAT_IF = whatif.apply_from_environment()

urlpatterns = [
    path("bench/bare-tickets/", BareTicketCreateView.as_view(), name="bench-bare-tickets"),
    *product_urlpatterns,
]
