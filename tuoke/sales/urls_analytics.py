from django.urls import path

from ._placeholder import not_yet

urlpatterns = [
    path("funnel/", not_yet, name="funnel"),
    path("close-soon/", not_yet, name="close_soon"),
]
