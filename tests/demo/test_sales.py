"""The demo's sales: two pipelines, lost reasons, a catalogue, and about a year of deals on
the demo customers with histories that hold together (contiguous stays, the last one open
exactly while the deal is open, closed deals dated and lost ones with a reason); customers
whose deals reached 需求确认 are at least intent; running it again adds nothing."""

import itertools
import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from tests.sales.records import STAGES
from tuoke.customers.models import Customer, LifecycleChange, LifecycleStatus
from tuoke.sales import demo
from tuoke.sales.models import (
    LostReason,
    Opportunity,
    OpportunityLine,
    Pipeline,
    Product,
    Stage,
    StageVisit,
)


@pytest.fixture
def built(whole_demo):
    return {
        "people": whole_demo.people,
        "made": whole_demo.made["sales"],
        "seconds": whole_demo.seconds["sales"],
        "again": whole_demo.again["sales"],
        "counts": whole_demo.counts,
        "again_counts": whole_demo.again_counts,
    }


# One build of the demo for the package, on one worker (see conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]


def _counts() -> dict[str, int]:
    models = (Pipeline, Stage, LostReason, Product, Opportunity)
    counts = {model.__name__: model.all_objects.count() for model in models}
    counts["lines"] = OpportunityLine.objects.count()
    counts["visits"] = StageVisit.objects.count()
    return counts


def test_two_pipelines_with_their_stages_reasons_and_products(built):
    new = Pipeline.objects.get(name="新客户销售")
    assert new.is_default
    assert Pipeline.objects.filter(is_default=True).count() == 1
    assert [
        (s.name, s.kind, s.probability, s.expected_days, s.required_fields, s.marks_intent)
        for s in new.stages.order_by("sort_order")
    ] == [tuple(row) for row in STAGES]
    renewal = Pipeline.objects.get(name="续约")
    assert [
        (s.name, s.kind, s.probability, s.required_fields)
        for s in renewal.stages.order_by("sort_order")
    ] == [
        ("续约沟通", "open", 30, []),
        ("续约报价", "open", 60, ["amount"]),
        ("合同确认", "open", 90, ["amount", "expected_close_date"]),
        ("已续约", "won", 100, []),
        ("未续约", "lost", 0, []),
    ]
    assert set(LostReason.objects.values_list("name", flat=True)) >= {
        "价格过高",
        "选择了竞争对手",
        "无预算",
        "需求取消",
        "联系不上",
    }
    products = Product.objects.all()
    assert products.count() == 10
    assert all(p.price > 0 and p.code for p in products)


def test_about_a_year_of_deals_won_lost_and_open(built):
    deals = Opportunity.objects.all()
    total = deals.count()
    assert built["made"]["opportunities"] == total
    assert 200 <= total <= 320
    status = Counter(deals.values_list("status", flat=True))
    assert 0.22 < status["won"] / total < 0.38
    assert 0.27 < status["lost"] / total < 0.43
    assert 0.25 < status["open"] / total < 0.45
    # Open ones sit in each open stage of the default pipeline.
    open_stages = set(
        deals.filter(status="open", pipeline__name="新客户销售").values_list(
            "stage__name", flat=True
        )
    )
    assert open_stages == {"初步接洽", "需求确认", "方案报价", "商务谈判"}
    assert deals.filter(pipeline__name="续约").count() >= 10
    first = min(deals.values_list("created_at", flat=True))
    assert timezone.now() - first > timedelta(days=250)
    # Every lost reason is used; amounts 5万–300万 are the sum of the lines from the catalogue.
    assert set(deals.filter(status="lost").values_list("lost_reason__name", flat=True)) == set(
        demo.LOST_REASONS
    )
    for deal in deals.annotate(lines_total=Sum(F("lines__quantity") * F("lines__unit_price"))):
        assert deal.amount == deal.lines_total
        assert Decimal(50_000) <= deal.amount <= Decimal(3_000_000), deal.amount
    assert not OpportunityLine.objects.filter(product__isnull=True).exists()


def test_deals_belong_to_their_customers_owners(built):
    assert not Opportunity.objects.exclude(owner=F("customer__owner")).exists()
    assert not Opportunity.objects.filter(customer__lifecycle_status=LifecycleStatus.LEAD).exists()
    assert not Opportunity.objects.filter(created_at__lt=F("customer__created_at")).exists()
    owners = set(Opportunity.objects.values_list("owner__username", flat=True))
    assert {"rep_east1", "rep_east2", "rep_south1", "rep_south2"} <= owners


def test_histories_hold_together(built):
    now = timezone.now()
    visits: dict[int, list[StageVisit]] = {}
    for visit in StageVisit.objects.select_related("stage").order_by("entered_at", "pk"):
        visits.setdefault(visit.opportunity_id, []).append(visit)
    deals = Opportunity.objects.select_related("stage")
    assert set(visits) == set(deals.values_list("pk", flat=True))
    for deal in deals:
        history = visits[deal.pk]
        # Contiguous: each stay ends when the next begins; every stage of the deal's pipeline.
        for before, after in itertools.pairwise(history):
            assert before.left_at == after.entered_at, deal
            assert before.entered_at <= before.left_at
        assert all(v.stage.pipeline_id == deal.pipeline_id for v in history)
        assert all(v.stage_name == v.stage.name for v in history)
        assert history[0].entered_at == deal.created_at
        # Only the last stay is still going (as the services leave it): the deal's stage, an
        # end stage exactly when the deal is closed.
        last = history[-1]
        assert last.left_at is None, deal
        assert all(v.left_at is not None for v in history[:-1])
        assert (last.stage.kind == "open") == (deal.status == "open"), deal
        assert last.stage_id == deal.stage_id
        assert deal.status == deal.stage.kind
        assert deal.stage_entered_at == last.entered_at
        assert last.entered_at <= now
        # Open stays never repeat and move forward.
        orders = [v.stage.sort_order for v in history]
        assert orders == sorted(orders), deal
        if deal.status == "open":
            assert deal.closed_at is None and deal.lost_reason_id is None
            assert deal.expected_close_date >= timezone.localdate(now)
        else:
            assert deal.closed_at == last.entered_at
            assert (deal.lost_reason_id is not None) == (deal.status == "lost")


def test_stays_last_about_the_expected_days_some_far_longer_some_skipped(built):
    ratios = []
    stalled_open = 0
    now = timezone.now()
    for visit in StageVisit.objects.select_related("stage").filter(stage__kind="open"):
        expected = visit.stage.expected_days
        days = ((visit.left_at or now) - visit.entered_at).total_seconds() / 86400
        if visit.left_at is not None:
            ratios.append(days / expected)
        elif days > expected:
            stalled_open += 1
    ratios.sort()
    median = ratios[len(ratios) // 2]
    assert 0.6 < median < 1.4
    assert sum(r > 1.5 for r in ratios) > 10  # some stalled far beyond the expected days
    assert stalled_open >= 5  # open deals idle for longer than their stage allows
    # Some deals skipped a stage on the way.
    new = Pipeline.objects.get(name="新客户销售")
    won = Opportunity.objects.filter(pipeline=new, status="won")
    skipped = [
        deal
        for deal in won
        if StageVisit.objects.filter(opportunity=deal, stage__kind="open").count() < 4
    ]
    assert 0 < len(skipped) < won.count() / 2


def test_customers_past_the_intent_stage_are_at_least_intent(built):
    reached = Customer.objects.filter(
        opportunities__stage_visits__stage__sort_order__gte=10,
        opportunities__stage_visits__stage__kind="open",
        opportunities__pipeline__name="新客户销售",
    ).distinct()
    assert reached.exists()
    statuses = set(reached.values_list("lifecycle_status", flat=True))
    assert statuses <= {LifecycleStatus.INTENT, LifecycleStatus.SIGNED, LifecycleStatus.CHURNED}
    moved = LifecycleChange.objects.filter(cause="opportunity_stage")
    assert moved.count() == built["made"]["customers_made_intent"] > 0
    # Dated when the deal entered the stage, in the past.
    assert all(change.at < timezone.now() for change in moved)
    # Won deals are those of signed customers (churned ones won once too), most of whom won one.
    won = Opportunity.objects.filter(status="won", pipeline__name="新客户销售")
    assert set(won.values_list("customer__lifecycle_status", flat=True)) == {
        LifecycleStatus.SIGNED,
        LifecycleStatus.CHURNED,
    }
    signed = Customer.objects.filter(lifecycle_status=LifecycleStatus.SIGNED)
    winners = signed.filter(opportunities__status="won").distinct().count()
    assert winners > signed.count() * 0.6


def test_it_is_fast_and_running_it_again_adds_nothing(built):
    assert built["seconds"] < 5
    assert built["again"] == {}
    assert built["again_counts"] == built["counts"]


def test_a_customers_deals_are_drawn_from_a_fixed_seed(built):
    customer = Customer.objects.filter(lifecycle_status=LifecycleStatus.INTENT).first()
    now = timezone.now()
    config = demo.build_config()
    config = {
        **config,
        "stages": {name: demo._open_stages(p) for name, p in config["pipelines"].items()},
        "reasons": list(config["reasons"].values()),
    }

    def draw():
        rng = random.Random(f"{demo.SEED}:{customer.legal_name}")
        deals = demo._deals_of(rng, customer, {}, config, now, [])
        return [
            (d.title, d.status, d.amount, [(s.stage.pk, s.entered) for s in d.stays]) for d in deals
        ]

    assert draw() == draw()


def test_a_demo_deal_moves_on_through_the_services(built):
    from tuoke.sales import services

    deal = Opportunity.objects.filter(status="open", stage__name="商务谈判").first()
    owner = deal.owner
    services.win(deal, by=owner, note="demo", version=deal.version)
    history = list(StageVisit.objects.filter(opportunity=deal).order_by("entered_at", "pk"))
    assert [v.stage.kind for v in history][-2:] == ["open", "won"]
    assert history[-2].left_at == history[-1].entered_at
    assert history[-1].left_at is None
