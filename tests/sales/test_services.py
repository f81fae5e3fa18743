"""Opportunity services: creation with lines and required fields, edits with the version
check, stage moves with their history, win, lose, reopen, the recycle bin, transfers and
activity."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.sales import records
from tuoke.core.audit import trail_of
from tuoke.core.custom_fields import create_custom_field
from tuoke.core.errors import Conflict, ErrorCode
from tuoke.customers.models import Customer, LifecycleStatus
from tuoke.customers.services import advance_lifecycle, create_customer
from tuoke.sales import services
from tuoke.sales.models import LostReason, Opportunity, Product, StageVisit


@pytest.fixture
def pipeline(db):
    return records.pipeline()


@pytest.fixture
def customer(rep_east):
    return create_customer(
        by=rep_east, short_name="腾达精密", contacts=[{"name": "王强"}, {"name": "李娜"}]
    )


@pytest.fixture
def price(db):
    return LostReason.objects.create(name="价格过高")


def _stage(name):
    return records.stage(name)


def _codes(exc: ValidationError) -> dict[str, list[str]]:
    return {f: [e.code for e in errors] for f, errors in exc.error_dict.items()}


def test_it_creates_an_opportunity_in_the_default_pipelines_first_stage(
    rep_east, customer, pipeline
):
    opp = services.create_opportunity(customer=customer, title="MES 一期", by=rep_east)
    assert opp.owner == rep_east
    assert opp.pipeline == pipeline
    assert opp.stage.name == "初步接洽"
    assert opp.status == "open"
    assert opp.stage_entered_at is not None
    assert opp.last_activity_at == opp.stage_entered_at
    visit = opp.stage_visits.get()
    assert (visit.stage_name, visit.probability, visit.left_at) == ("初步接洽", 10, None)
    assert visit.by == rep_east
    assert trail_of(opp).first().kind == "create"


def test_it_sums_the_lines_into_the_amount(rep_east, customer, pipeline):
    product = Product.objects.create(name="MES 许可", price=Decimal("20000"))
    opp = services.create_opportunity(
        customer=customer,
        title="MES",
        by=rep_east,
        lines=[
            {"product": product, "quantity": 3},
            {"name": "实施服务", "quantity": "2", "unit_price": "5000.50"},
        ],
    )
    assert opp.amount == Decimal("70001.00")
    assert [(line.name, line.amount) for line in opp.lines.all()] == [
        ("MES 许可", Decimal("60000.00")),
        ("实施服务", Decimal("10001.00")),
    ]


def test_it_keeps_an_amount_given_beside_the_lines(rep_east, customer, pipeline):
    opp = services.create_opportunity(
        customer=customer,
        title="MES",
        by=rep_east,
        amount="50000",
        lines=[{"name": "实施服务", "unit_price": "5000"}],
    )
    assert opp.amount == Decimal("50000.00")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"name": "", "unit_price": "1"}, "Line 1: name the item."),
        ({"name": "x", "quantity": "0", "unit_price": "1"}, "quantity must be above zero"),
        ({"name": "x", "unit_price": "-1"}, "cannot be negative"),
        ({"name": "x"}, "enter the unit price"),
        ({"name": "x", "unit_price": "abc"}, "enter numbers"),
        ({"name": "x", "unit_price": "1" + "0" * 20}, "too large"),
        ({"product": 999999}, "existing product"),
    ],
)
def test_it_refuses_bad_lines(rep_east, customer, pipeline, line, message):
    with pytest.raises(ValidationError) as caught:
        services.create_opportunity(customer=customer, title="x", by=rep_east, lines=[line])
    assert message in caught.value.message_dict["lines"][0]
    assert not Opportunity.objects.exists()


def test_it_refuses_contacts_of_another_customer(rep_east, customer, pipeline):
    other = create_customer(by=rep_east, short_name="别家", contacts=[{"name": "赵六"}])
    with pytest.raises(ValidationError) as caught:
        services.create_opportunity(
            customer=customer, title="x", by=rep_east, contacts=[other.contacts.get()]
        )
    assert "is not a contact of" in caught.value.message_dict["contacts"][0]


def test_it_takes_contacts_and_team_by_id_and_leaves_the_owner_out_of_his_team(
    rep_east, rep_east2, customer, pipeline
):
    contact = customer.contacts.get(name="王强")
    opp = services.create_opportunity(
        customer=customer,
        title="x",
        by=rep_east,
        contacts=[contact.pk],
        team=[rep_east2.pk, rep_east.pk],
    )
    assert list(opp.contacts.all()) == [contact]
    assert list(opp.team.all()) == [rep_east2]


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"title": "  "}, "title"),
        ({"currency": "人民币"}, "currency"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "many"}, "amount"),
    ],
)
def test_it_names_the_field_of_bad_facts(rep_east, customer, pipeline, facts, field):
    facts = {"title": "x", **facts}
    with pytest.raises(ValidationError) as caught:
        services.create_opportunity(customer=customer, by=rep_east, **facts)
    assert field in caught.value.message_dict


def test_it_refuses_to_start_in_a_stage_whose_fields_are_missing(rep_east, customer, pipeline):
    with pytest.raises(ValidationError) as caught:
        services.create_opportunity(
            customer=customer, title="x", by=rep_east, stage=_stage("商务谈判"), amount=None
        )
    assert caught.value.message_dict == {
        "amount": ["Enter the amount before moving to “商务谈判”."],
        "expected_close_date": ["Enter the expected close date before moving to “商务谈判”."],
    }
    assert _codes(caught.value)["amount"] == [ErrorCode.REQUIRED]


def test_it_refuses_to_start_in_an_end_stage(rep_east, customer, pipeline):
    with pytest.raises(ValidationError) as caught:
        services.create_opportunity(customer=customer, title="x", by=rep_east, stage=_stage("赢单"))
    assert _codes(caught.value) == {"stage": [services.SalesError.END_STAGE]}


def test_it_says_when_there_is_no_pipeline(rep_east, customer):
    from tuoke.sales.models import Pipeline

    Pipeline.objects.update(active=False)
    with pytest.raises(ValidationError) as caught:
        services.create_opportunity(customer=customer, title="x", by=rep_east)
    assert "pipeline" in caught.value.message_dict


# --- Stage moves --------------------------------------------------------------------------------


def test_it_moves_stages_keeping_the_history(rep_east, customer, pipeline):
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east)
    first_visit = opp.stage_visits.get()
    moved = services.move_stage(opp, _stage("需求确认"), by=rep_east, version=opp.version)
    assert moved.stage.name == "需求确认"
    visits = list(StageVisit.objects.filter(opportunity=opp).order_by("pk"))
    assert [v.stage_name for v in visits] == ["初步接洽", "需求确认"]
    assert visits[0].pk == first_visit.pk
    assert visits[0].left_at == visits[1].entered_at == moved.stage_entered_at
    assert visits[1].left_at is None
    assert moved.last_activity_at == moved.stage_entered_at
    entry = trail_of(opp).first()
    assert [(c["field"], c["old"], c["new"]) for c in entry.changes] == [
        ("stage", "初步接洽", "需求确认")
    ]


def test_a_stage_requiring_the_amount_stops_the_move_with_its_name(rep_east, customer, pipeline):
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.move_stage(opp, _stage("方案报价"), by=rep_east)
    assert caught.value.message_dict == {
        "amount": ["Enter the amount before moving to “方案报价”."]
    }
    opp.refresh_from_db()
    assert opp.stage.name == "初步接洽"
    assert opp.stage_visits.count() == 1


def test_required_missing_lists_contacts_lines_description_and_custom_fields(
    rep_east, admin_user, customer, pipeline
):
    create_custom_field(
        by=admin_user, target="opportunity", label="预算来源", kind="text", key="budget_source"
    )
    stage = _stage("方案报价")
    stage.required_fields = [
        "amount",
        "contacts",
        "lines",
        "description",
        "custom:budget_source",
        "custom:gone",
    ]
    stage.save()
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east)
    assert [key for key, _label in services.required_missing(opp, stage)] == [
        "amount",
        "contacts",
        "lines",
        "description",
        "custom:budget_source",
    ]
    with pytest.raises(ValidationError) as caught:
        services.move_stage(opp, stage, by=rep_east)
    assert caught.value.message_dict["custom.budget_source"] == [
        "Fill in “预算来源” before moving to “方案报价”."
    ]
    services.update_opportunity(
        opp,
        by=rep_east,
        contacts=[customer.contacts.first()],
        lines=[{"name": "许可", "unit_price": "100"}],
        description="三条产线",
        custom={"budget_source": "年度 IT 预算"},
    )
    assert services.required_missing(opp, stage) == []
    assert services.move_stage(opp, stage, by=rep_east).stage == stage


def test_it_refuses_a_stage_of_another_pipeline_an_archived_one_and_end_stages(
    rep_east, customer, pipeline
):
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east)
    other = records.pipeline("续约", is_default=False).stages.get(name="需求确认")
    archived = _stage("需求确认")
    archived.active = False
    archived.save()
    for stage, code in (
        (other, services.SalesError.OTHER_PIPELINE),
        (archived, services.SalesError.INACTIVE),
        (_stage("赢单"), services.SalesError.END_STAGE),
    ):
        with pytest.raises(ValidationError) as caught:
            services.move_stage(opp, stage, by=rep_east)
        assert _codes(caught.value) == {"stage": [code]}


def test_a_stale_version_is_a_conflict(rep_east, customer, pipeline):
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east)
    stale = opp.version
    services.update_opportunity(opp, by=rep_east, version=stale, title="新标题")
    for attempt in (
        lambda: services.move_stage(opp, _stage("需求确认"), by=rep_east, version=stale),
        lambda: services.win(opp, by=rep_east, version=stale),
        lambda: services.update_opportunity(opp, by=rep_east, version=stale, title="又一个"),
    ):
        with pytest.raises(Conflict):
            attempt()
    # An instance read before someone else's change conflicts on its own.
    old = Opportunity.objects.get(pk=opp.pk)
    services.update_opportunity(opp, by=rep_east, amount="10")
    with pytest.raises(Conflict):
        services.move_stage(old, _stage("需求确认"), by=rep_east)


def test_a_stage_marking_intent_moves_the_customer_to_intent(rep_east, customer, pipeline):
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east)
    services.move_stage(opp, _stage("需求确认"), by=rep_east)
    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.INTENT
    change = customer.lifecycle_changes.order_by("-pk").first()
    assert change.cause == "opportunity_stage"


def test_a_signed_customer_stays_signed_when_a_deal_shows_intent(rep_east, customer, pipeline):
    advance_lifecycle(customer, to=LifecycleStatus.SIGNED, cause="contract_effective")
    stale = Customer.objects.get(pk=customer.pk)
    stale.lifecycle_status = LifecycleStatus.POTENTIAL  # an old copy in memory
    opp = services.create_opportunity(customer=stale, title="x", by=rep_east)
    services.move_stage(opp, _stage("需求确认"), by=rep_east)
    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.SIGNED


def test_a_deal_created_in_an_intent_stage_moves_the_customer(rep_east, customer, pipeline):
    services.create_opportunity(customer=customer, title="x", by=rep_east, stage=_stage("需求确认"))
    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.INTENT


# --- Win, lose, reopen --------------------------------------------------------------------------


def test_it_wins_a_deal_without_signing_the_customer(rep_east, customer, pipeline):
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east, amount="100")
    won = services.win(opp, by=rep_east, note=" 签了 ")
    assert (won.status, won.stage.name, won.close_note) == ("won", "赢单", "签了")
    assert won.closed_at is not None
    assert [v.stage_name for v in won.stage_visits.order_by("pk")] == ["初步接洽", "赢单"]
    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.POTENTIAL
    with pytest.raises(ValidationError) as caught:
        services.move_stage(won, _stage("需求确认"), by=rep_east)
    assert _codes(caught.value) == {"stage": [services.SalesError.CLOSED]}
    with pytest.raises(ValidationError):
        services.win(won, by=rep_east)


def test_losing_needs_an_active_reason(rep_east, customer, pipeline, price):
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.lose(opp, by=rep_east, reason=None)
    assert _codes(caught.value) == {"reason": [ErrorCode.REQUIRED]}
    retired = LostReason.objects.create(name="旧理由", active=False)
    with pytest.raises(ValidationError) as caught:
        services.lose(opp, by=rep_east, reason=retired)
    assert _codes(caught.value) == {"reason": [services.SalesError.INACTIVE]}
    lost = services.lose(opp, by=rep_east, reason=price, note="对手低 20%")
    assert (lost.status, lost.stage.name, lost.lost_reason, lost.close_note) == (
        "lost",
        "输单",
        price,
        "对手低 20%",
    )


def test_a_manager_reopens_a_lost_deal(rep_east, manager_east, customer, pipeline, price):
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east)
    services.lose(opp, by=rep_east, reason=price, note="n")
    with pytest.raises(PermissionDenied):
        services.reopen(opp, stage=_stage("需求确认"), by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.reopen(opp, stage=_stage("方案报价"), by=manager_east)
    assert "amount" in caught.value.message_dict
    opened = services.reopen(opp, stage=_stage("需求确认"), by=manager_east)
    assert (opened.status, opened.closed_at, opened.lost_reason, opened.close_note) == (
        "open",
        None,
        None,
        "",
    )
    assert [v.stage_name for v in opened.stage_visits.order_by("pk")] == [
        "初步接洽",
        "输单",
        "需求确认",
    ]
    with pytest.raises(ValidationError) as caught:
        services.reopen(opened, stage=_stage("需求确认"), by=manager_east)
    assert _codes(caught.value) == {"status": [services.SalesError.NOT_CLOSED]}


# --- Edits --------------------------------------------------------------------------------------


def test_it_edits_facts_and_replaces_lines_with_one_audited_version_each(
    rep_east, rep_east2, customer, pipeline
):
    opp = services.create_opportunity(
        customer=customer, title="x", by=rep_east, lines=[{"name": "A", "unit_price": "10"}]
    )
    version = opp.version
    opp = services.update_opportunity(
        opp,
        by=rep_east,
        version=version,
        title="MES 二期",
        expected_close_date=date(2030, 1, 31),
        lines=[{"name": "B", "quantity": "2", "unit_price": "30"}],
        team=[rep_east2],
    )
    assert opp.version == version + 2  # the facts, then the lines and team
    assert opp.title == "MES 二期"
    assert opp.amount == Decimal("60.00")
    assert [line.name for line in opp.lines.all()] == ["B"]
    assert list(opp.team.all()) == [rep_east2]
    entry = trail_of(opp).first()
    assert {c["field"] for c in entry.changes} == {"lines", "team"}
    assert Opportunity.objects.get(pk=opp.pk).version == opp.version


def test_it_refuses_to_change_the_stage_by_editing(rep_east, customer, pipeline):
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east)
    for name in ("stage", "status", "pipeline"):
        with pytest.raises(ValidationError) as caught:
            services.update_opportunity(opp, by=rep_east, **{name: None})
        assert name in caught.value.message_dict


def test_it_refuses_to_empty_what_the_current_stage_requires(rep_east, customer, pipeline):
    opp = services.create_opportunity(
        customer=customer, title="x", by=rep_east, amount="100", stage=_stage("方案报价")
    )
    with pytest.raises(ValidationError) as caught:
        services.update_opportunity(opp, by=rep_east, amount=None)
    assert caught.value.message_dict == {
        "amount": ["Enter the amount before moving to “方案报价”."]
    }
    # Other edits pass even where a field the stage now requires is empty.
    services.update_opportunity(opp, by=rep_east, title="新")


def test_changing_the_customer_needs_contacts_of_the_new_one(rep_east, customer, pipeline):
    opp = services.create_opportunity(
        customer=customer, title="x", by=rep_east, contacts=[customer.contacts.first()]
    )
    other = create_customer(by=rep_east, short_name="别家", contacts=[{"name": "赵六"}])
    with pytest.raises(ValidationError) as caught:
        services.update_opportunity(opp, by=rep_east, customer=other)
    assert "contacts" in caught.value.message_dict
    services.update_opportunity(opp, by=rep_east, customer=other, contacts=other.contacts.all())
    assert opp.customer == other


# --- Recycle bin, transfer, activity ------------------------------------------------------------


def test_it_deletes_and_restores(rep_east, customer, pipeline):
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east)
    services.delete_opportunity(opp, by=rep_east)
    assert not Opportunity.objects.filter(pk=opp.pk).exists()
    services.restore_opportunity(opp, by=rep_east)
    assert Opportunity.objects.filter(pk=opp.pk).exists()
    assert [e.kind for e in trail_of(opp)][:2] == ["restore", "delete"]


def test_a_manager_transfers_opportunities_with_a_reason(
    rep_east, rep_east2, manager_east, customer, pipeline
):
    opp = services.create_opportunity(customer=customer, title="x", by=rep_east, team=[rep_east2])
    with pytest.raises(PermissionDenied):
        services.transfer_opportunities([opp], to=rep_east2, reason="r", by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.transfer_opportunities([opp], to=rep_east2, reason=" ", by=manager_east)
    assert "reason" in caught.value.message_dict
    moved = services.transfer_opportunities([opp], to=rep_east2, reason="调岗", by=manager_east)
    assert moved == 1
    opp.refresh_from_db()
    assert opp.owner == rep_east2
    assert not opp.team.exists()
    entry = trail_of(opp).first()
    assert entry.note == "Transferred: 调岗"
    assert entry.changes[0]["new"] == str(rep_east2)


def test_touch_activity_moves_open_deals_forward_only(rep_east, customer, pipeline, price):
    open_one = services.create_opportunity(customer=customer, title="a", by=rep_east)
    lost_one = services.create_opportunity(customer=customer, title="b", by=rep_east)
    services.lose(lost_one, by=rep_east, reason=price)
    later = timezone.now() + timedelta(minutes=5)
    assert services.touch_activity(customer, later) == 1
    open_one.refresh_from_db()
    lost_one.refresh_from_db()
    assert open_one.last_activity_at == later
    assert lost_one.last_activity_at < later
    assert services.touch_activity(customer.pk, later - timedelta(days=1)) == 0
    open_one.refresh_from_db()
    assert open_one.last_activity_at == later
    assert open_one.version == 1
