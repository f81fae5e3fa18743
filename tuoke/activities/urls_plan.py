"""Pages of tasks, the daily plan and the Today page (views_plan.py)."""

from django.urls import path

from . import views_plan as views

urlpatterns = [
    path("today/", views.today, name="today"),
    path("team/", views.team, name="team"),
    path("team/<int:pk>/", views.team_member, name="team_member"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/subjects/", views.task_subjects, name="task_subjects"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("tasks/<int:pk>/delete/", views.task_delete, name="task_delete"),
    path("plan/settings/", views.cadence_settings, name="plan_settings"),
]
