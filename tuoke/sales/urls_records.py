from django.urls import path

from ._placeholder import not_yet

urlpatterns = [
    path("opportunities/", not_yet, name="opportunity_list"),
]
