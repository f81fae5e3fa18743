from django.urls import path

from . import list_views, views

app_name = "leads"
urlpatterns = [
    path("", list_views.lead_list, name="lead_list"),
    path("new/", views.lead_create, name="lead_create"),
    path("bulk/", list_views.lead_bulk, name="lead_bulk"),
    *list_views.SAVED_VIEW_ROUTES,
    path("<int:pk>/", views.lead_detail, name="lead_detail"),
    path("<int:pk>/edit/", views.lead_edit, name="lead_edit"),
    path("<int:pk>/delete/", views.lead_delete, name="lead_delete"),
    path("<int:pk>/clean/", views.lead_clean, name="lead_clean"),
    path("<int:pk>/unclean/", views.lead_unclean, name="lead_unclean"),
    path("<int:pk>/assign/", views.lead_assign, name="lead_assign"),
    path("<int:pk>/convert/", views.lead_convert, name="lead_convert"),
    path("channels/", views.channel_list, name="channel_list"),
    path("channels/new/", views.channel_create, name="channel_create"),
    path("channels/<int:pk>/", views.channel_detail, name="channel_detail"),
    path("channels/<int:pk>/edit/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/delete/", views.channel_delete, name="channel_delete"),
    path("channels/<int:pk>/costs/new/", views.cost_create, name="cost_create"),
    path("costs/<int:pk>/edit/", views.cost_edit, name="cost_edit"),
    path("costs/<int:pk>/delete/", views.cost_delete, name="cost_delete"),
    path("rules/", views.rule_list, name="rule_list"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
