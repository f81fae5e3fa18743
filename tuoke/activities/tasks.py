"""The daily plan's scheduled job (the schedule is in tuoke/celery.py)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from . import plan


@shared_task
def generate_plan_task(day: str | None = None) -> dict[str, int]:
    """Give everyone his plan for ``day`` (ISO date; default today); idempotent, so a
    retried or doubled run makes nothing twice. Returns the tasks made per source."""
    run = plan.generate_plan(date.fromisoformat(day) if day else None, trigger="schedule")
    return run.counts
