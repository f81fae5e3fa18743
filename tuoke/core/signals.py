"""Login events go to the audit trail (who logged in, who failed, from where)."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import audit


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs):
    audit.record_login(user=user, request=request)


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    audit.record_login_failed(username=credentials.get("username", ""), request=request)
