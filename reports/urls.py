from django.urls import path

from reports import views
from reports.dashboard_views import dashboard

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("dashboard/", dashboard, name="dashboard"),
    path("regenerate/", views.report_regenerate, name="regenerate"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/approve/", views.report_approve, name="approve"),
    path("<int:pk>/export.<str:extension>", views.report_download, name="download"),
]
