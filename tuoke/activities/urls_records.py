"""Pages of follow-ups, visits, comments and the follow-up kinds (views_records.py)."""

from django.urls import path

from . import views_records as views
from . import views_timeline

urlpatterns = [
    path("follow-ups/new/", views.follow_up_create, name="follow_up_create"),
    path("follow-ups/subjects/", views.subject_search, name="subject_search"),
    path("follow-ups/<int:pk>/", views.follow_up_detail, name="follow_up_detail"),
    path("follow-ups/<int:pk>/edit/", views.follow_up_edit, name="follow_up_edit"),
    path("follow-ups/<int:pk>/delete/", views.follow_up_delete, name="follow_up_delete"),
    path("visits/", views.visit_list, name="visit_list"),
    path("visits/new/", views.visit_create, name="visit_create"),
    path("visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("visits/<int:pk>/check-in/", views.visit_check_in, name="visit_check_in"),
    path("visits/<int:pk>/complete/", views.visit_complete, name="visit_complete"),
    path("visits/<int:pk>/cancel/", views.visit_cancel, name="visit_cancel"),
    path("comments/", views.comment_list, name="comment_list"),
    path("comments/new/", views.comment_create, name="comment_create"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment_delete"),
    path("kinds/", views.kind_list, name="kind_list"),
    path("kinds/<int:pk>/edit/", views.kind_edit, name="kind_edit"),
    path("kinds/<int:pk>/toggle/", views.kind_toggle, name="kind_toggle"),
    path("kinds/<int:pk>/move/", views.kind_move, name="kind_move"),
    path(
        "customers/<int:pk>/timeline/", views_timeline.customer_timeline, name="customer_timeline"
    ),
]
