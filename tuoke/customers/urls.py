from django.urls import path

from . import list_views, views

app_name = "customers"
urlpatterns = [
    # The customer list, saved views and bulk actions (list_views.py).
    path("", list_views.customer_list, name="customer_list"),
    path("bulk/", list_views.customer_bulk, name="customer_bulk"),
    *list_views.SAVED_VIEW_ROUTES,
    # One customer: create, read, edit, contacts, lifecycle, merge (views.py).
    path("new/", views.customer_create, name="customer_create"),
    path("new/quick/", views.customer_quick_create, name="customer_quick_create"),
    path("duplicates/", views.customer_duplicates, name="customer_duplicates"),
    path("<int:pk>/", views.customer_detail, name="customer_detail"),
    path("<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:pk>/delete/", views.customer_delete, name="customer_delete"),
    path("<int:pk>/tags/", views.customer_tags, name="customer_tags"),
    path("<int:pk>/lifecycle/", views.customer_lifecycle, name="customer_lifecycle"),
    path("<int:pk>/collaborators/", views.customer_collaborators, name="customer_collaborators"),
    path("<int:pk>/merge/", views.customer_merge, name="customer_merge"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("access-requests/", views.access_request_list, name="access_request_list"),
    path("access-requests/new/", views.access_request_create, name="access_request_create"),
    path(
        "access-requests/<int:pk>/decide/",
        views.access_request_decide,
        name="access_request_decide",
    ),
]
