from django.urls import path

from ._placeholder import not_yet

urlpatterns = [
    path("pipelines/", not_yet, name="pipeline_list"),
    path("lost-reasons/", not_yet, name="lost_reason_list"),
    path("products/", not_yet, name="product_list"),
]
