from django.urls import path

from dispatch.views import crew

app_name = "crew"

urlpatterns = [
    path("", crew.crew_home, name="home"),
    path("duty/", crew.crew_duty, name="duty"),
    path("<str:number>/", crew.crew_ticket, name="ticket"),
    path("<str:number>/<slug:action>/", crew.crew_act, name="act"),
]
