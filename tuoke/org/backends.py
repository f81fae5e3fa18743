"""Logging in with Django's model backend. Every request reads its user again: that read is
kept by each process under the directory's fingerprint, which moves with every change to a
user (his password and his deactivation included; ``tuoke.core.directory``), and the user
comes with his unit: every page shows it (the user menu) and unit scopes start from it."""

import copy

from django.contrib.auth.backends import ModelBackend

from tuoke.core import directory

from .models import User


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        def read() -> User | None:
            return User._default_manager.select_related("unit").filter(pk=user_id).first()

        kept = directory.kept_here(f"auth-user:{user_id}", read)
        if kept is None:
            return None
        # The request's own copy (with its own state and cached unit): what it sets on
        # request.user stays with it.
        user = copy.copy(kept)
        return user if self.user_can_authenticate(user) else None
