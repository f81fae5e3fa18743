"""The opportunity pages: the list with its saved views and bulk actions (list_views), and one
opportunity: create, page, edit, delete, stage moves, win, lose, reopen (views_records)."""

from django.urls import path

from . import list_views, views_records

urlpatterns = [
    path("opportunities/", list_views.opportunity_list, name="opportunity_list"),
    path("opportunities/bulk/", list_views.opportunity_bulk, name="opportunity_bulk"),
    *list_views.SAVED_VIEW_ROUTES,
    path("opportunities/new/", views_records.opportunity_create, name="opportunity_create"),
    path("opportunities/<int:pk>/", views_records.opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", views_records.opportunity_edit, name="opportunity_edit"),
    path(
        "opportunities/<int:pk>/delete/",
        views_records.opportunity_delete,
        name="opportunity_delete",
    ),
    path("opportunities/<int:pk>/move/", views_records.opportunity_move, name="opportunity_move"),
    path("opportunities/<int:pk>/win/", views_records.opportunity_win, name="opportunity_win"),
    path("opportunities/<int:pk>/lose/", views_records.opportunity_lose, name="opportunity_lose"),
    path(
        "opportunities/<int:pk>/reopen/",
        views_records.opportunity_reopen,
        name="opportunity_reopen",
    ),
]
