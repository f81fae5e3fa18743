"""Receivables ageing and renewals (views_reports)."""

from django.urls import path

from . import views_reports

urlpatterns = [
    path("receivables/", views_reports.receivables, name="receivables"),
    path("renewals/", views_reports.renewals, name="renewals"),
]
