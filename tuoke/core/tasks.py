"""Scheduled housekeeping jobs."""

from celery import shared_task

from . import services


@shared_task
def purge_recycle_bin_task() -> int:
    """Purge what has been in the recycle bin longer than the retention period."""
    return services.purge_expired()
