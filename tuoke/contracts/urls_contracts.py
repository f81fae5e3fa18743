"""The contract pages (list, create, page, edit, submit, …): views_contracts."""

from django.urls import path

from . import views_contracts

urlpatterns = [
    path("", views_contracts.contract_list, name="contract_list"),
]
