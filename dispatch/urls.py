from django.urls import path

from dispatch.views import board, unclosed

app_name = "dispatch"

urlpatterns = [
    path("", board.board, name="board"),
    path("lanes/", board.board_lanes_partial, name="lanes"),
    path("tickets/<str:number>/send/", board.send, name="send"),
    path("unclosed/", unclosed.unclosed_list, name="unclosed"),
    path("unclosed/<str:number>/", unclosed.unclosed_plan, name="unclosed-plan"),
]
