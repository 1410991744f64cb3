from django.urls import path

from outages import views

app_name = "outages"
urlpatterns = [
    path("", views.outage_list, name="list"),
    path("new/", views.outage_new, name="new"),
    path("<int:pk>/", views.outage_detail, name="detail"),
    path("<int:pk>/restore/", views.outage_restore, name="restore"),
    path("<int:pk>/cancel/", views.outage_cancel, name="cancel"),
    path("declare/<str:number>/", views.incident_declare, name="declare"),
    path("steps/<int:pk>/tick/", views.incident_step_tick, name="tick"),
]
