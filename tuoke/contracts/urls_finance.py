"""Finance's lists: payments (to confirm) and invoices (views_finance)."""

from django.urls import path

from . import views_finance

urlpatterns = [
    path("payments/", views_finance.payment_list, name="payment_list"),
    path("invoices/", views_finance.invoice_list, name="invoice_list"),
]
