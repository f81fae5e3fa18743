"""Logging in with Django's model backend, reading the user's unit with him: every page
shows it (the user menu) and unit scopes start from it, so a request saves a query."""

from django.contrib.auth.backends import ModelBackend

from .models import User


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("unit").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
