"""Records the plan and task tests start from, and the task rep_east1 (华东销售组, sales rep)
may not see, for the access matrix (tests/web/test_access_matrix.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

# Tuesday 24 November 2026, 09:00 in Shanghai: "today" in the plan tests.
DAY = date(2026, 11, 24)
NOW = timezone.make_aware(datetime(2026, 11, 24, 9, 0))


def customer(owner, name: str, *, tier: str = "", touched_days_ago: int | None = None, **facts):
    """A customer of ``owner`` last followed up ``touched_days_ago`` days before DAY (never:
    created that long ago)."""
    from tuoke.customers.models import Customer
    from tuoke.customers.services import create_customer

    found = create_customer(by=owner, short_name=name, **facts)
    changes: dict = {"tier": tier}
    if touched_days_ago is not None:
        changes["last_follow_up_at"] = NOW - timedelta(days=touched_days_ago)
    Customer.all_objects.filter(pk=found.pk).update(**changes)
    found.refresh_from_db()
    return found


def created_days_ago(customer, days: int) -> None:
    from tuoke.customers.models import Customer

    Customer.all_objects.filter(pk=customer.pk).update(created_at=NOW - timedelta(days=days))


def south_task(people):
    """A task of rep_south1 (华南销售组)."""
    from tuoke.activities.models import Task
    from tuoke.activities.plan import create_task

    existing = Task.objects.filter(title="南方任务").first()
    return existing or create_task(
        by=people["rep_south1"], title="南方任务", due_on=timezone.localdate()
    )
