"""The funnel, its drill-down, customers by stage, and close soon."""

from django.urls import path

from . import views_analytics

urlpatterns = [
    path("funnel/", views_analytics.funnel, name="funnel"),
    path("funnel/records/", views_analytics.funnel_records, name="funnel_records"),
    path("funnel/by-stage/", views_analytics.customers_by_stage, name="customers_by_stage"),
    path("close-soon/", views_analytics.close_soon, name="close_soon"),
]
