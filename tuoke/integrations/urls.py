"""Notification pages and delivery-channel settings."""

urlpatterns: list = []
app_name = "notifications"
