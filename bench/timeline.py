"""The timeline of a customer with 2,000 events (`python -m bench.timeline`): its first page
and a page deep in its history, as the page fragment and through the API, for the owner and
his manager. Writes bench/results/timeline-<database>.json.

Builds its data in a throw-away test database of the DATABASE_URL server: the demo org, one
customer with 2,000 events (follow-ups, visits with their follow-ups, comments, lifecycle
moves, owner and field changes, contacts) over two years, and other customers with their own
follow-ups and comments around it, so that the indexes hold more than one customer's rows.
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import timedelta
from typing import Any

from .run import ROUNDS, _configure, report, time_pages

BUDGET_MS = 50  # as a list page (ARCHITECTURE.md has no figure of its own for the timeline)
# The customer's events by source; 2,000 together.
EVENTS = {
    "follow_up": 900,
    "visit": 200,
    "comment": 500,
    "lifecycle": 100,
    "ownership": 50,
    "changes": 200,
    "contact": 50,
}
OTHER_CUSTOMERS = int(os.environ.get("BENCH_TIMELINE_OTHERS", "100"))
OTHER_FOLLOW_UPS = 300  # per other customer
OTHER_COMMENTS = 100

CONTENTS = [
    "电话沟通了新版报价，客户希望再降 5 个点，需要请示经理。",
    "微信发了产品手册和案例，对方采购说下周内部评审。",
    "上门演示了 MES 模块，生产总监很感兴趣，要求做一次试点方案。",
    "客户反馈上一批交付延迟，已协调售后，承诺周五前补发。",
    "参加了客户的供应商大会，认识了新任采购经理。",
    "邮件确认合同条款，法务对付款方式有疑问。",
]


def _retime(model, field: str, moments: dict[int, Any]) -> None:
    """Set a field Django stamps itself (auto_now_add) to the given moments, by id."""
    for pk, moment in moments.items():
        model.objects.filter(pk=pk).update(**{field: moment})


def build() -> dict[str, Any]:
    """The org, the customer with its 2,000 events, and the other customers; returns what the
    scenarios need."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from tuoke.activities.models import Comment, FollowUp, FollowUpKind, Visit
    from tuoke.core.models import AuditEntry
    from tuoke.customers.models import Contact, Customer, LifecycleChange, LifecycleStatus
    from tuoke.customers.services import create_customer
    from tuoke.org.defaults import ensure_default_roles
    from tuoke.org.demo import build_org

    rng = random.Random(20251122)
    ensure_default_roles()
    people = build_org()
    rep, colleague = people["rep_east1"], people["rep_east2"]
    kinds = list(FollowUpKind.objects.all())
    now = timezone.now()
    start = now - timedelta(days=730)

    def moment() -> Any:
        return start + timedelta(seconds=rng.randrange(730 * 86400))

    with transaction.atomic():
        customer = create_customer(
            by=rep, short_name="腾达精密", legal_name="深圳市腾达精密科技有限公司"
        )
        Customer.all_objects.filter(pk=customer.pk).update(created_at=start)
        AuditEntry.objects.filter(object_id=customer.pk).update(at=start)
        LifecycleChange.objects.filter(customer=customer).update(at=start)

        contacts = Contact.objects.bulk_create(
            Contact(customer=customer, name=f"联系人{i}", title="采购", created_by=rep)
            for i in range(EVENTS["contact"])
        )
        _retime(Contact, "created_at", {c.pk: moment() for c in contacts})

        follow_ups = FollowUp.objects.bulk_create(
            FollowUp(
                owner=rng.choice((rep, colleague)),
                customer=customer,
                kind=rng.choice(kinds),
                content=rng.choice(CONTENTS),
                result=rng.choice(("", "", "有意向", "待跟进")),
                next_step=rng.choice(("", "发报价", "约演示")),
                happened_at=moment(),
            )
            for _ in range(EVENTS["follow_up"])
        )
        links = FollowUp.contacts.through
        links.objects.bulk_create(
            links(followup_id=f.pk, contact_id=rng.choice(contacts).pk) for f in follow_ups[::3]
        )

        visits = []
        for i in range(EVENTS["visit"]):
            planned = moment()
            done = i % 4 != 0
            visit_follow_up = None
            if done:
                visit_follow_up = FollowUp.objects.create(
                    owner=rep,
                    customer=customer,
                    kind=kinds[1],
                    content=rng.choice(CONTENTS),
                    happened_at=planned,
                )
            visits.append(
                Visit(
                    owner=rep,
                    customer=customer,
                    planned_at=planned,
                    purpose="产品演示",
                    status=Visit.Status.DONE if done else Visit.Status.PLANNED,
                    checked_in_at=planned if done else None,
                    address="深圳市南山区科技园" if done else "",
                    follow_up=visit_follow_up,
                )
            )
        Visit.objects.bulk_create(visits)

        comments = Comment.objects.bulk_create(
            Comment(author=colleague, customer=customer, body=rng.choice(CONTENTS))
            for _ in range(EVENTS["comment"])
        )
        _retime(Comment, "created_at", {c.pk: moment() for c in comments})

        statuses = [s for s in LifecycleStatus.values if s != "lead"]
        changes = LifecycleChange.objects.bulk_create(
            LifecycleChange(
                customer=customer,
                from_status=statuses[i % len(statuses)],
                to_status=statuses[(i + 1) % len(statuses)],
                cause="override",
                reason="手工调整",
                by=people["manager_east"],
            )
            for i in range(EVENTS["lifecycle"])
        )
        _retime(LifecycleChange, "at", {c.pk: moment() for c in changes})

        content_type = ContentType.objects.get_for_model(Customer)

        def entry(changed: list[dict], note: str = "") -> AuditEntry:
            return AuditEntry(
                content_type=content_type,
                object_id=customer.pk,
                object_repr=customer.short_name,
                kind=AuditEntry.Kind.UPDATE,
                actor=people["manager_east"],
                changes=changed,
                note=note,
            )

        entries = AuditEntry.objects.bulk_create(
            [
                *(
                    entry(
                        [{"field": "owner", "label": "owner", "old": "张伟", "new": "刘洋"}],
                        "Transferred: 调整区域",
                    )
                    for _ in range(EVENTS["ownership"])
                ),
                *(
                    entry(
                        [{"field": "industry", "label": "industry", "old": "机械", "new": "电子"}]
                    )
                    for _ in range(EVENTS["changes"])
                ),
                # The audit entries of the lifecycle moves: shown once, as lifecycle events.
                *(
                    entry(
                        [{"field": "lifecycle_status", "label": "status", "old": "a", "new": "b"}]
                    )
                    for _ in range(EVENTS["lifecycle"])
                ),
            ]
        )
        _retime(AuditEntry, "at", {e.pk: moment() for e in entries})

        # Others' customers around it, with their own history.
        for n in range(OTHER_CUSTOMERS):
            other = create_customer(by=colleague, short_name=f"其他客户{n}")
            FollowUp.objects.bulk_create(
                FollowUp(
                    owner=colleague,
                    customer=other,
                    kind=rng.choice(kinds),
                    content=rng.choice(CONTENTS),
                    happened_at=moment(),
                )
                for _ in range(OTHER_FOLLOW_UPS)
            )
            Comment.objects.bulk_create(
                Comment(author=colleague, customer=other, body=rng.choice(CONTENTS))
                for _ in range(OTHER_COMMENTS)
            )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have by then: plans from real counts
    return {"people": people, "customer": customer}


def _deep_cursor(customer, user, depth: int = 1000) -> str:
    """The cursor of the page that starts ``depth`` events into the history."""
    from tuoke.core import timeline

    found = timeline.page(customer, user, limit=depth)
    assert found.next_cursor, "not enough events"
    return found.next_cursor


def scenarios(data: dict) -> list[tuple[str, str, str]]:
    from urllib.parse import quote

    customer = data["customer"]
    fragment = f"/activities/customers/{customer.pk}/timeline/"
    api = f"/api/v1/customers/{customer.pk}/timeline"
    rep = data["people"]["rep_east1"]
    deep = quote(_deep_cursor(customer, rep))
    return [
        ("timeline fragment, first page, owner", "rep_east1", fragment),
        (
            "timeline fragment, page after 1,000 events, owner",
            "rep_east1",
            f"{fragment}?before={deep}",
        ),
        ("timeline fragment, follow-ups only, owner", "rep_east1", f"{fragment}?kinds=follow_up"),
        ("timeline fragment, first page, manager", "manager_east", fragment),
        (
            "timeline fragment, page after 1,000 events, manager",
            "manager_east",
            f"{fragment}?before={deep}",
        ),
        ("API timeline, first page, owner", "rep_east1", api),
        ("API timeline, page after 1,000 events, owner", "rep_east1", f"{api}?before={deep}"),
        ("API timeline, 100 events, owner", "rep_east1", f"{api}?limit=100"),
        (
            "customer page (timeline loads after it), owner",
            "rep_east1",
            f"/customers/{customer.pk}/",
        ),
    ]


def run() -> int:
    from django.db import connection

    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        started = time.perf_counter()
        data = build()
        print(f"built the data in {time.perf_counter() - started:.1f} s", flush=True)
        figures = time_pages(scenarios(data), data["people"], ROUNDS, budget_ms=BUDGET_MS, width=55)
        from tuoke.activities.models import Comment, FollowUp

        data_set = {
            "customer_events": sum(EVENTS.values()),
            "events_by_kind": EVENTS,
            "other_customers": OTHER_CUSTOMERS,
            "follow_ups": FollowUp.objects.count(),
            "comments": Comment.objects.count(),
        }
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return report("timeline", connection.vendor, data_set, figures)


def main() -> int:
    _configure()
    return run()


if __name__ == "__main__":
    sys.exit(main())
