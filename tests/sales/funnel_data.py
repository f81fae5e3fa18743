"""A hand-countable stage history for the funnel tests (pages, API, browser).

Pipeline 新客户销售 (tests/sales/records.py), period Q1 2026 = [2026-01-01, 2026-04-01):

    A rep_east1  初步接洽 01-05 → 需求确认 01-10 → 方案报价 01-20 → 商务谈判 02-10 → 赢单 02-20
    B rep_east1  初步接洽 01-08 → 方案报价 01-11 (skips 需求确认) → 输单 01-31 (价格过高)
    C rep_east1  初步接洽 02-01 → 输单 02-15 (无预算)
    D rep_east1  初步接洽 03-01 → 需求确认 03-03 (still there)
    E rep_east1  初步接洽 2025-12-20 → 需求确认 01-15 (still there; not in the cohort)
    F rep_south1 初步接洽 01-02 (still there)
    G rep_east2  初步接洽 01-03 00:00 → 赢单 01-04 12:00 (1.5 days)

For rep_east1 (his own): cohort A B C D = 4; won 1, lost 2, win rate 1/3.
Reached: 初步接洽 4, 需求确认 3 (B skipped it), 方案报价 2, 商务谈判 1, won 1 → conversions
75%, 67%, 50%, 100%: the bottleneck is 方案报价. Entered: 初步接洽 4, 需求确认 3 (A D E),
方案报价 2, 商务谈判 1. Days 初步接洽: 2 3 5 14 → median 3, p80 14; 需求确认: 10; 方案报价:
20 21 → median 20, p80 21; 商务谈判 10.
manager_east adds G: cohort 5, won 2, reached 5 4 3 2, won 2; 初步接洽 days 1.5 2 3 5 14 →
median 3, p80 5; the bottleneck 方案报价 (2/3).
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone

from . import records

START = date(2026, 1, 1)
END = date(2026, 4, 1)


def at(month: int, day: int, hour: int = 0, year: int = 2026) -> datetime:
    return timezone.make_aware(datetime.combine(date(year, month, day), time(hour)))


def _customer(owner, name):
    from tuoke.customers.models import Customer
    from tuoke.customers.services import create_customer

    return Customer.objects.filter(short_name=name).first() or create_customer(
        by=owner, short_name=name
    )


def reason(name: str):
    from tuoke.sales.models import LostReason

    return LostReason.objects.get_or_create(name=name)[0]


def make(owner, title, path, *, customer=None, status="open", lost_reason=None, amount=None):
    """An opportunity with the stays ``path``: [(stage name, entered, left or None)]."""
    from tuoke.sales.models import Opportunity, StageVisit

    pipeline = records.pipeline()
    stages = {s.name: s for s in pipeline.stages.all()}
    last_name, last_entered, _left = path[-1]
    opp = Opportunity.objects.create(
        owner=owner,
        created_by=owner,
        customer=customer or _customer(owner, f"{title}客户"),
        title=title,
        amount=amount,
        pipeline=pipeline,
        stage=stages[last_name],
        status=status,
        stage_entered_at=last_entered,
        last_activity_at=last_entered,
        closed_at=last_entered if status != "open" else None,
        lost_reason=lost_reason,
    )
    Opportunity.objects.filter(pk=opp.pk).update(created_at=path[0][1])
    StageVisit.objects.bulk_create(
        StageVisit(
            opportunity=opp,
            stage=stages[name],
            stage_name=name,
            probability=stages[name].probability,
            entered_at=entered,
            left_at=left,
            by=owner,
        )
        for name, entered, left in path
    )
    return opp


def build(people) -> dict:
    east1, east2, south1 = people["rep_east1"], people["rep_east2"], people["rep_south1"]
    made = {
        "A": make(
            east1,
            "A 商机",
            [
                ("初步接洽", at(1, 5), at(1, 10)),
                ("需求确认", at(1, 10), at(1, 20)),
                ("方案报价", at(1, 20), at(2, 10)),
                ("商务谈判", at(2, 10), at(2, 20)),
                ("赢单", at(2, 20), None),
            ],
            status="won",
            amount=500000,
        ),
        "B": make(
            east1,
            "B 商机",
            [
                ("初步接洽", at(1, 8), at(1, 11)),
                ("方案报价", at(1, 11), at(1, 31)),
                ("输单", at(1, 31), None),
            ],
            status="lost",
            lost_reason=reason("价格过高"),
        ),
        "C": make(
            east1,
            "C 商机",
            [("初步接洽", at(2, 1), at(2, 15)), ("输单", at(2, 15), None)],
            status="lost",
            lost_reason=reason("无预算"),
        ),
        "D": make(
            east1,
            "D 商机",
            [("初步接洽", at(3, 1), at(3, 3)), ("需求确认", at(3, 3), None)],
        ),
        "E": make(
            east1,
            "E 商机",
            [("初步接洽", at(12, 20, year=2025), at(1, 15)), ("需求确认", at(1, 15), None)],
        ),
        "F": make(south1, "F 商机", [("初步接洽", at(1, 2), None)]),
        "G": make(
            east2,
            "G 商机",
            [("初步接洽", at(1, 3), at(1, 4, 12)), ("赢单", at(1, 4, 12), None)],
            status="won",
        ),
    }
    return made
