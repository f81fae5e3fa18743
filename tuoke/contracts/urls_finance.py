"""Finance's lists: payments (to confirm) and invoices (views_finance)."""

from django.urls import path

from . import views_finance

urlpatterns = [
    path("payments/", views_finance.payment_list, name="payment_list"),
    path("payments/<int:pk>/confirm/", views_finance.payment_confirm, name="payment_confirm"),
    path("payments/<int:pk>/reject/", views_finance.payment_reject, name="payment_reject"),
    path("payments/<int:pk>/delete/", views_finance.payment_delete, name="payment_delete"),
    path("invoices/", views_finance.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/issue/", views_finance.invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/void/", views_finance.invoice_void, name="invoice_void"),
]
