"""The contract pages: the list with its saved views (list_views), and one contract: create,
page, edit, delete, submit, withdraw, complete, terminate, renew, payment plan, recording a
payment, requesting an invoice, attachments (views_contracts)."""

from django.urls import path

from . import list_views, views_contracts

urlpatterns = [
    path("", list_views.contract_list, name="contract_list"),
    path("bulk/", list_views.contract_bulk, name="contract_bulk"),
    *list_views.SAVED_VIEW_ROUTES,
    path("new/", views_contracts.contract_create, name="contract_create"),
    path("<int:pk>/", views_contracts.contract_detail, name="contract_detail"),
    path("<int:pk>/edit/", views_contracts.contract_edit, name="contract_edit"),
    path("<int:pk>/delete/", views_contracts.contract_delete, name="contract_delete"),
    path("<int:pk>/submit/", views_contracts.contract_submit, name="contract_submit"),
    path("<int:pk>/withdraw/", views_contracts.contract_withdraw, name="contract_withdraw"),
    path("<int:pk>/complete/", views_contracts.contract_complete, name="contract_complete"),
    path("<int:pk>/terminate/", views_contracts.contract_terminate, name="contract_terminate"),
    path("<int:pk>/renew/", views_contracts.contract_renew, name="contract_renew"),
    path("<int:pk>/plan/", views_contracts.contract_plan, name="contract_plan"),
    path("<int:pk>/payments/new/", views_contracts.payment_create, name="payment_create"),
    path("<int:pk>/invoices/new/", views_contracts.invoice_create, name="invoice_create"),
    path("<int:pk>/attachments/", views_contracts.attachment_upload, name="attachment_upload"),
    path(
        "attachments/<int:pk>/",
        views_contracts.attachment_download,
        name="attachment_download",
    ),
    path(
        "attachments/<int:pk>/delete/",
        views_contracts.attachment_delete,
        name="attachment_delete",
    ),
]
