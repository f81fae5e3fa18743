"""How sales plugs into the rest: the customer's timeline, the daily plan's stalled deals,
handover, customer merge, follow-ups as activity, lead conversion and the default pipeline."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.sales import records
from tuoke.activities import plan
from tuoke.activities.models import Task
from tuoke.activities.services import log_follow_up
from tuoke.core import timeline
from tuoke.customers.models import LifecycleStatus
from tuoke.customers.services import create_customer, merge_customers
from tuoke.leads import services as lead_services
from tuoke.org import handover
from tuoke.sales import services
from tuoke.sales.defaults import install_defaults
from tuoke.sales.models import LostReason, Opportunity, Pipeline, Stage, StageVisit
from tuoke.sales.plan import STALLED_SOURCE


@pytest.fixture
def pipeline(db):
    return records.pipeline()


@pytest.fixture
def customer(rep_east):
    return create_customer(by=rep_east, short_name="腾达精密", contacts=[{"name": "王强"}])


@pytest.fixture
def reason(db):
    return LostReason.objects.create(name="价格过高")


def _idle(opp, days):
    """Make ``opp`` look untouched for ``days`` days."""
    then = timezone.now() - timedelta(days=days)
    Opportunity.objects.filter(pk=opp.pk).update(last_activity_at=then, stage_entered_at=then)


# --- Timeline -----------------------------------------------------------------------------------


def test_the_customer_timeline_tells_deals_opened_moved_won_and_lost(
    rep_east, customer, pipeline, reason
):
    opp = services.create_opportunity(customer=customer, title="MES 一期", by=rep_east)
    services.move_stage(opp, records.stage("需求确认"), by=rep_east)
    services.win(opp, by=rep_east, note="签约在即")
    other = services.create_opportunity(customer=customer, title="WMS", by=rep_east)
    services.lose(other, by=rep_east, reason=reason, note="对手低价")
    page = timeline.page(customer, rep_east, kinds=["opportunity", "stage_move", "deal_closed"])
    titles = [(e.kind, e.title) for e in page.events]
    assert titles == [
        ("deal_closed", "Lost: WMS"),
        ("opportunity", "Opportunity created: WMS"),
        ("deal_closed", "Won: MES 一期"),
        ("stage_move", "MES 一期: 初步接洽 → 需求确认"),
        ("opportunity", "Opportunity created: MES 一期"),
    ]
    lost = page.events[0]
    assert "价格过高" in lost.body and "对手低价" in lost.body
    assert lost.color == "red"
    assert page.events[2].color == "green"
    assert {s.key for s in page.kinds} >= {"opportunity", "stage_move", "deal_closed"}


def test_the_timeline_shows_only_the_deals_the_reader_may_see(
    rep_east, rep_south, customer, pipeline, django_assert_max_num_queries
):
    mine = services.create_opportunity(customer=customer, title="我的", by=rep_east)
    services.move_stage(mine, records.stage("需求确认"), by=rep_east)
    theirs = services.create_opportunity(customer=customer, title="别人的", by=rep_south)
    services.move_stage(theirs, records.stage("需求确认"), by=rep_south)
    with django_assert_max_num_queries(12):
        page = timeline.page(customer, rep_east, kinds=["opportunity", "stage_move"])
    assert all("别人的" not in e.title for e in page.events)
    assert len(page.events) == 2


def test_the_timeline_chips_are_left_out_for_people_who_see_no_deals(people, customer, pipeline):
    marketing = people["marketing1"]
    keys = {s.key for s in timeline.sources("customer", marketing)}
    assert not keys & {"opportunity", "stage_move", "deal_closed"}


# --- Daily plan ---------------------------------------------------------------------------------


def test_a_stalled_deal_becomes_one_task_for_its_owner(rep_east, customer, pipeline, reason):
    stalled = services.create_opportunity(customer=customer, title="MES 一期", by=rep_east)
    _idle(stalled, 20)  # 初步接洽 expects 14 days
    fresh = services.create_opportunity(customer=customer, title="新的", by=rep_east)
    _idle(fresh, 3)
    closed = services.create_opportunity(customer=customer, title="丢了", by=rep_east)
    services.lose(closed, by=rep_east, reason=reason)
    _idle(closed, 60)
    run = plan.generate_plan(only=[STALLED_SOURCE])
    assert run.counts == {STALLED_SOURCE: 1}
    task = Task.objects.get(source=STALLED_SOURCE)
    assert task.owner == rep_east
    assert task.customer == customer
    assert task.source_key == f"opportunity:{stalled.pk}"
    assert "MES 一期" in task.title and "初步接洽" in task.title
    assert "20 days" in task.note
    again = plan.generate_plan(only=[STALLED_SOURCE])
    assert again.counts == {STALLED_SOURCE: 0}
    assert Task.objects.filter(source=STALLED_SOURCE).count() == 1


def test_the_stalled_deals_are_capped_per_owner_longest_idle_first(
    rep_east, customer, pipeline, settings
):
    settings.PLAN_STALLED_DAILY_CAP = 2
    deals = [
        services.create_opportunity(customer=customer, title=f"商机{n}", by=rep_east)
        for n in range(3)
    ]
    for days, deal in zip((30, 40, 20), deals, strict=True):
        _idle(deal, days)
    plan.generate_plan(only=[STALLED_SOURCE])
    keys = set(Task.objects.filter(source=STALLED_SOURCE).values_list("source_key", flat=True))
    assert keys == {f"opportunity:{deals[0].pk}", f"opportunity:{deals[1].pk}"}


def test_a_follow_up_bumps_the_deals_activity_and_does_the_stalled_task(
    rep_east, customer, pipeline
):
    opp = services.create_opportunity(customer=customer, title="MES", by=rep_east)
    _idle(opp, 20)
    plan.generate_plan(only=[STALLED_SOURCE])
    follow_up = log_follow_up(by=rep_east, customer=customer, kind="call", content="聊了方案")
    opp.refresh_from_db()
    assert opp.last_activity_at == follow_up.happened_at
    assert Task.objects.get(source=STALLED_SOURCE).done_with == follow_up
    # Not stalled any more: tomorrow's plan has nothing for it.
    run = plan.generate_plan(timezone.localdate() + timedelta(days=1), only=[STALLED_SOURCE])
    assert run.counts == {STALLED_SOURCE: 0}


# --- Handover and merge -------------------------------------------------------------------------


def test_a_handover_moves_the_open_deals_and_leaves_the_closed_ones(
    people, rep_east, rep_east2, manager_east, customer, pipeline
):
    open_deal = services.create_opportunity(customer=customer, title="开着的", by=rep_east)
    won_deal = services.create_opportunity(customer=customer, title="赢了的", by=rep_east)
    services.win(won_deal, by=rep_east)
    moved = handover.hand_over(rep_east, to=rep_east2, reason="离职交接", by=manager_east)
    assert moved["opportunities"] == 1
    open_deal.refresh_from_db()
    won_deal.refresh_from_db()
    assert open_deal.owner == rep_east2
    assert won_deal.owner == rep_east
    assert moved == {"customers": 1, "opportunities": 1}


def test_merging_customers_moves_their_deals(rep_east, customer, pipeline):
    other = create_customer(by=rep_east, short_name="腾达精密二厂", contacts=[{"name": "李娜"}])
    opp = services.create_opportunity(
        customer=other, title="二厂 MES", by=rep_east, contacts=[other.contacts.get()]
    )
    merge_customers(keep=customer, merge=other, by=rep_east)
    opp.refresh_from_db()
    assert opp.customer == customer
    assert opp.contacts.get().customer_id == customer.pk


# --- Lead conversion ----------------------------------------------------------------------------


@pytest.fixture
def lead(people, rep_east):
    channel = lead_services.create_channel(by=people["marketing1"], name="官网表单", kind="website")
    return lead_services.create_lead(
        by=people["marketing1"],
        owner=rep_east,
        channel=channel,
        company_name="深圳市腾达精密科技有限公司",
        short_name="腾达精密",
        contact_name="王强",
        needs="三条产线上 MES，预算 50 万\n明年一季度上线",
    )


def test_a_conversion_asked_for_an_opportunity_opens_one_from_the_needs(rep_east, lead, pipeline):
    result = lead_services.convert_lead(lead, by=rep_east, opportunity={})
    opp = Opportunity.objects.get(customer=result.customer)
    assert opp.title == "三条产线上 MES，预算 50 万"
    assert opp.amount == 500000
    assert opp.owner == rep_east
    assert (opp.source_lead, opp.channel) == (lead, lead.channel)
    assert list(opp.contacts.all()) == [result.contact]
    assert "明年一季度上线" in opp.description


def test_a_conversion_without_the_ask_opens_none(rep_east, lead, pipeline):
    lead_services.convert_lead(lead, by=rep_east)
    assert not Opportunity.objects.exists()


def test_a_bad_opportunity_takes_the_conversion_back_with_named_errors(rep_east, lead, pipeline):
    with pytest.raises(ValidationError) as caught:
        lead_services.convert_lead(
            lead,
            by=rep_east,
            opportunity={"stage": records.stage("商务谈判"), "title": "MES"},
        )
    assert set(caught.value.message_dict) == {"opportunity.expected_close_date"}
    lead.refresh_from_db()
    assert lead.status != "converted"


@pytest.mark.parametrize(
    ("needs", "amount"),
    [
        ("预算约30w", 300000),
        ("budget: 80k", 80000),
        ("预算：120,000元", 120000),
        ("想了解一下", None),
    ],
)
def test_the_budget_is_read_from_the_needs(needs, amount):
    assert services.budget_in(needs) == amount


# --- Lifecycle and defaults ---------------------------------------------------------------------


def test_a_deal_reaching_intent_moves_its_customer(rep_east, customer, pipeline):
    opp = services.create_opportunity(customer=customer, title="MES", by=rep_east)
    services.move_stage(opp, records.stage("需求确认"), by=rep_east)
    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.INTENT


def test_a_fresh_install_has_the_default_pipeline_and_lost_reasons(db):
    pipeline = Pipeline.objects.get(name="新客户销售")
    assert pipeline.is_default
    stages = [
        (s.name, s.kind, s.probability, s.required_fields, s.marks_intent)
        for s in pipeline.stages.order_by("sort_order")
    ]
    assert stages == [
        ("初步接洽", "open", 10, [], False),
        ("需求确认", "open", 30, [], True),
        ("方案报价", "open", 50, ["amount"], False),
        ("商务谈判", "open", 80, ["amount", "expected_close_date"], False),
        ("赢单", "won", 100, [], False),
        ("输单", "lost", 0, [], False),
    ]
    assert list(LostReason.objects.values_list("name", flat=True)) == [
        "价格过高",
        "选择了竞争对手",
        "无预算",
        "需求取消",
        "联系不上",
    ]


def test_the_defaults_never_come_back_once_an_administrator_changed_them(db):
    Pipeline.objects.update(name="改过的名字")
    LostReason.objects.update(deleted_at=timezone.now())  # all in the recycle bin
    install_defaults()
    assert list(Pipeline.objects.values_list("name", flat=True)) == ["改过的名字"]
    assert not LostReason.objects.exists()
    # With nothing at all, they are made again, once.
    StageVisit.objects.all().delete()
    Opportunity.all_objects.all().delete()
    Stage.all_objects.all().delete()
    Pipeline.all_objects.all().delete()
    install_defaults()
    install_defaults()
    assert Pipeline.objects.get().stages.count() == 6
