"""Approvals: an approver's queue and each request's page (decide there), and the approval
flow settings (views_approvals)."""

from django.urls import path

from . import views_approvals as views

app_name = "approvals"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pk>/", views.request_detail, name="request_detail"),
    path("<int:pk>/approve/", views.request_approve, name="request_approve"),
    path("<int:pk>/reject/", views.request_reject, name="request_reject"),
    path("<int:pk>/return/", views.request_return, name="request_return"),
    path("<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("flows/", views.flow_list, name="flow_list"),
    path("flows/new/", views.flow_create, name="flow_create"),
    path("flows/<int:pk>/edit/", views.flow_edit, name="flow_edit"),
    path("flows/<int:pk>/delete/", views.flow_delete, name="flow_delete"),
    path("flows/<int:pk>/restore/", views.flow_restore, name="flow_restore"),
    path("flows/<int:pk>/move/", views.flow_move, name="flow_move"),
]
