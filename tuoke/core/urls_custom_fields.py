from django.urls import path

from . import views_custom_fields as views

app_name = "custom_fields"
urlpatterns = [
    path("", views.field_list, name="list"),
    path("new/", views.field_create, name="create"),
    path("<int:pk>/edit/", views.field_edit, name="edit"),
    path("<int:pk>/delete/", views.field_delete, name="delete"),
]
