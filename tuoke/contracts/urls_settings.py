"""The contract settings page: numbering, sales credit rule, renewal reminder (views_settings)."""

from django.urls import path

from . import views_settings

urlpatterns = [
    path("settings/", views_settings.contract_settings, name="settings"),
    path("settings/preview/", views_settings.settings_preview, name="settings_preview"),
]
