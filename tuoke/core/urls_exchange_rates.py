from django.urls import path

from . import views_exchange_rates as views

app_name = "exchange_rates"
urlpatterns = [
    path("", views.rate_list, name="list"),
]
