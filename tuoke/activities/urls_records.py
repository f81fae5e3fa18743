"""Filled in by the activities issue."""

urlpatterns: list = []
