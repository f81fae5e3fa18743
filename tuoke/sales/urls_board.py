from django.urls import path

from ._placeholder import not_yet

urlpatterns = [
    path("board/", not_yet, name="board_default"),
]
