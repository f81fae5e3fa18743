from django.urls import path

from . import list_views, views

app_name = "customers"
urlpatterns = [
    # The customer list, saved views and bulk actions (list_views.py).
    path("", list_views.customer_list, name="customer_list"),
    # One customer: create, read, edit, contacts, lifecycle, merge (views.py).
    path("new/", views.customer_create, name="customer_create"),
]
