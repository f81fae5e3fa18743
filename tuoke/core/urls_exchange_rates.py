"""Exchange rate pages under /settings/exchange-rates/ (views_exchange_rates)."""

from django.urls import path

from . import views_exchange_rates as views

app_name = "exchange_rates"
urlpatterns = [
    path("", views.rate_list, name="list"),
    path("new/", views.rate_create, name="create"),
    path("<int:pk>/edit/", views.rate_edit, name="edit"),
    path("<int:pk>/delete/", views.rate_delete, name="delete"),
]
