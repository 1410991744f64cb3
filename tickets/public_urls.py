"""The customer's pages, at /status/: no login, a signed token in the address."""

from django.urls import path

from tickets import public

app_name = "status"

urlpatterns = [
    path("", public.status_lookup, name="lookup"),
    path("<str:token>/", public.status_show, name="show"),
    path("<str:token>/slip/", public.status_slip, name="slip"),
    path("<str:token>/slip.pdf", public.status_slip_pdf, name="slip-pdf"),
]
