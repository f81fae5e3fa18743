"""Approvals: an approver's queue and each request's page (decide there), and the approval
flow settings (views_approvals)."""

from django.urls import path

from . import views_approvals

app_name = "approvals"
urlpatterns = [
    path("", views_approvals.queue, name="queue"),
    path("flows/", views_approvals.flow_list, name="flow_list"),
]
