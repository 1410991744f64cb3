from django.urls import path

from followups import views

app_name = "followups"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("next/", views.queue_next, name="next"),
    path("<int:pk>/", views.callback_detail, name="callback"),
    path("<int:pk>/record/", views.callback_record, name="record"),
    path("complaints/", views.complaints, name="complaints"),
    path("complaints/<str:number>/reply/", views.complaint_reply, name="complaint-reply"),
    path("register/", views.register, name="register"),
    path("overdue/", views.overdue, name="overdue"),
]
