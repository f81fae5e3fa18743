"""Sales records for tests: a pipeline with its stages, and opportunities rep_east1
(华东销售组, sales rep) may not see, for the access matrix; each made once per test.

Built straight through the ORM so that every part of the sales app can use them; the
services are tested on their own in tests/sales/test_services.py."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

STAGES = (
    # name, kind, probability, expected days, required fields, marks intent
    ("初步接洽", "open", 10, 14, [], False),
    ("需求确认", "open", 30, 21, [], True),
    ("方案报价", "open", 50, 21, ["amount"], False),
    ("商务谈判", "open", 80, 14, ["amount", "expected_close_date"], False),
    ("赢单", "won", 100, None, [], False),
    ("输单", "lost", 0, None, [], False),
)


def pipeline(name: str = "新客户销售", *, is_default: bool = True):
    """A pipeline with the four open stages and the two end stages above."""
    from tuoke.sales.models import Pipeline, Stage

    existing = Pipeline.objects.filter(name=name).first()
    if existing is not None:
        return existing
    made = Pipeline.objects.create(name=name, is_default=is_default)
    for order, (stage_name, kind, probability, days, required, intent) in enumerate(STAGES):
        Stage.objects.create(
            pipeline=made,
            name=stage_name,
            kind=kind,
            sort_order=order * 10,
            probability=probability,
            expected_days=days,
            required_fields=required,
            marks_intent=intent,
        )
    return made


def stage(name: str, pipeline_name: str = "新客户销售"):
    return pipeline(pipeline_name).stages.get(name=name)


def opportunity(owner, customer, *, title: str, stage_name: str = "初步接洽", amount=None):
    """An open opportunity in ``stage_name`` with its first stage visit."""
    from tuoke.sales.models import Opportunity, StageVisit

    existing = Opportunity.objects.filter(title=title).first()
    if existing is not None:
        return existing
    now = timezone.now()
    current = stage(stage_name)
    made = Opportunity.objects.create(
        owner=owner,
        created_by=owner,
        customer=customer,
        title=title,
        amount=Decimal(amount) if amount is not None else None,
        pipeline=current.pipeline,
        stage=current,
        status="open",
        stage_entered_at=now,
        last_activity_at=now,
    )
    StageVisit.objects.create(
        opportunity=made,
        stage=current,
        stage_name=current.name,
        probability=current.probability,
        entered_at=now,
        by=owner,
    )
    return made


def south_opportunity(people):
    """An opportunity of rep_south1 on his customer 南方客户."""
    from tuoke.customers.models import Customer
    from tuoke.customers.services import create_customer

    customer = Customer.objects.filter(short_name="南方客户").first() or create_customer(
        by=people["rep_south1"], short_name="南方客户", contacts=[{"name": "陈先生"}]
    )
    return opportunity(people["rep_south1"], customer, title="南方商机", amount="100000")
