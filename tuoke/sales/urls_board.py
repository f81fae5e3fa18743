from django.urls import path

from . import views_board

urlpatterns = [
    path("board/", views_board.board_default, name="board_default"),
    path("board/<int:pk>/", views_board.board, name="board"),
    path("board/<int:pk>/more/", views_board.board_more, name="board_more"),
    path("board/cards/<int:pk>/move/", views_board.board_move, name="board_move"),
    path("board/cards/<int:pk>/close/", views_board.board_close, name="board_close"),
]
