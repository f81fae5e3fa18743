"""Filled in by the activities issue."""

from django.urls import path

from . import views_timeline

urlpatterns: list = [
    path(
        "customers/<int:pk>/timeline/", views_timeline.customer_timeline, name="customer_timeline"
    ),
]
