from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.recycle_bin, name="recycle_bin"),
    path("<slug:record_type>/<int:pk>/restore/", views.restore, name="restore"),
    path("<slug:record_type>/<int:pk>/purge/", views.purge, name="purge"),
]
