"""The Celery app. With REDIS_URL, Redis is the broker; without it, Celery's filesystem
transport under var/ lets `make run` start one embedded worker with beat beside the web server."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuoke.settings")

app = Celery("tuoke")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The whole schedule in one place.
app.conf.beat_schedule = {
    "purge-recycle-bin": {
        "task": "tuoke.core.tasks.purge_recycle_bin_task",
        "schedule": crontab(hour=3, minute=15),
    },
    # Each rep's plan for the day, before work starts (CELERY_TIMEZONE: the company's).
    "generate-daily-plan": {
        "task": "tuoke.activities.tasks.generate_plan_task",
        "schedule": crontab(hour=6, minute=0),
    },
    # Deliveries whose job was lost (the broker was down when they were queued).
    "requeue-lost-deliveries": {
        "task": "tuoke.integrations.tasks.requeue_lost_deliveries_task",
        "schedule": crontab(minute="*/10"),
    },
}
