from django.urls import path

from tickets import views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="list"),
    path("badge/", views.alert_badge, name="badge"),
    path("acknowledge/", views.alerts_acknowledge, name="acknowledge-all"),
    path("delays/", views.delay_list, name="delays"),
    path("<int:pk>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
    path("<int:pk>/cause/", views.alert_delay_cause, name="cause"),
]
