"""The settings pages of pipelines and stages, lost reasons and products (views_settings.py)."""

from django.urls import path

from . import views_settings as views

urlpatterns = [
    path("pipelines/", views.pipeline_list, name="pipeline_list"),
    path("pipelines/new/", views.pipeline_create, name="pipeline_create"),
    path("pipelines/<int:pk>/edit/", views.pipeline_edit, name="pipeline_edit"),
    path("pipelines/<int:pk>/delete/", views.pipeline_delete, name="pipeline_delete"),
    path("pipelines/<int:pk>/restore/", views.pipeline_restore, name="pipeline_restore"),
    path("pipelines/<int:pk>/stages/new/", views.stage_create, name="stage_create"),
    path("pipelines/<int:pk>/stages/order/", views.stage_reorder, name="stage_reorder"),
    path("stages/<int:pk>/", views.stage_row, name="stage_row"),
    path("stages/<int:pk>/edit/", views.stage_edit, name="stage_edit"),
    path("stages/<int:pk>/move/", views.stage_move, name="stage_move"),
    path("stages/<int:pk>/archive/", views.stage_archive, name="stage_archive"),
    path("stages/<int:pk>/unarchive/", views.stage_unarchive, name="stage_unarchive"),
    path("lost-reasons/", views.lost_reason_list, name="lost_reason_list"),
    path("lost-reasons/<int:pk>/edit/", views.lost_reason_edit, name="lost_reason_edit"),
    path("lost-reasons/<int:pk>/toggle/", views.lost_reason_toggle, name="lost_reason_toggle"),
    path("lost-reasons/<int:pk>/delete/", views.lost_reason_delete, name="lost_reason_delete"),
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/delete/", views.product_delete, name="product_delete"),
]
