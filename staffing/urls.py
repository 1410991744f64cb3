from django.contrib.auth import views as auth_views
from django.urls import path

from staffing import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
