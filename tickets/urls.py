from django.urls import path

from tickets import public, views

app_name = "tickets"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_create, name="create"),
    path("review/", views.ticket_review_queue, name="review"),
    path("<str:number>/", views.ticket_detail, name="detail"),
    path("<str:number>/slip/", public.slip_for_staff, name="slip"),
    path("<str:number>/slip.pdf", public.slip_pdf_for_staff, name="slip-pdf"),
    path("<str:number>/photos/<uuid:key>/", views.ticket_photo, name="photo"),
    path("<str:number>/<slug:action>/", views.ticket_act, name="act"),
]
