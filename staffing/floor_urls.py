from django.urls import path

from staffing import views

app_name = "staffing"

urlpatterns = [
    path("me/", views.my_status_panel, name="my-status"),
    path("me/change/", views.my_status_change, name="my-status-change"),
    path("me/shift/", views.shift_attendance, name="shift-attendance"),
    path("wallboard/", views.wallboard, name="wallboard"),
    path("wallboard/live/", views.wallboard_live, name="wallboard-live"),
    path("seats/<int:pk>/switch/", views.seat_switch, name="seat-switch"),
    path("roster/", views.roster, name="roster"),
    path("roster/copy/", views.roster_copy, name="roster-copy"),
    path("roster/<int:pk>/remove/", views.roster_remove, name="roster-remove"),
    path("planning/", views.planning, name="planning"),
]
