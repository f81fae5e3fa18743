"""The sales configuration services: pipelines, stages, lost reasons and products."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.sales import records
from tuoke.core.errors import Conflict
from tuoke.core.models import AuditEntry, CustomField
from tuoke.sales import config
from tuoke.sales.models import LostReason, Pipeline, Product, Stage, StageVisit

pytestmark = pytest.mark.django_db


def _codes(exc: ValidationError, field: str) -> list[str]:
    return [e.code for e in exc.error_dict[field]]


def _open_names(pipeline) -> list[str]:
    return list(config.active_stages(pipeline).filter(kind="open").values_list("name", flat=True))


@pytest.fixture
def admin(people):
    return people["admin"]


@pytest.fixture
def renewal(admin):
    return config.create_pipeline(
        name="续约",
        by=admin,
        stages=[
            {"name": "续约提醒", "probability": 20, "expected_days": 30},
            {"name": "续约报价", "probability": 60, "required_fields": ["amount"]},
        ],
    )


@pytest.fixture
def customer(people):
    from tuoke.customers.services import create_customer

    return create_customer(by=people["rep_east1"], short_name="华东客户")


# --- Pipelines ---------------------------------------------------------------------------------


def _no_pipelines() -> None:
    """A fresh installation may start with a pipeline; these tests start without."""
    Stage.all_objects.all().delete()
    Pipeline.all_objects.all().delete()


def test_it_gives_a_new_pipeline_the_usual_stages_with_both_end_stages(admin):
    _no_pipelines()
    pipeline = config.create_pipeline(name="新业务", by=admin)
    kinds = list(pipeline.stages.order_by("sort_order").values_list("kind", flat=True))
    assert kinds == ["open", "open", "open", "open", "won", "lost"]
    assert pipeline.is_default  # the first pipeline is the default
    quote = pipeline.stages.get(name="方案报价")
    assert quote.required_fields == ["amount"] and quote.probability == 50
    assert AuditEntry.objects.filter(kind="create", object_id=str(pipeline.pk)).exists()


def test_it_adds_the_end_stages_a_new_pipeline_was_given_without(renewal):
    stages = list(renewal.stages.order_by("sort_order"))
    assert [s.kind for s in stages] == ["open", "open", "won", "lost"]
    assert [s.name for s in stages[:2]] == ["续约提醒", "续约报价"]
    assert (stages[2].probability, stages[3].probability) == (100, 0)


@pytest.mark.parametrize(
    ("stages", "field", "code"),
    [
        ([], "stages", "last_open_stage"),
        ([{"name": "赢", "kind": "won"}], "stages", "last_open_stage"),
        (
            [{"name": "a"}, {"name": "b", "kind": "won"}, {"name": "c", "kind": "won"}],
            "stages",
            "end_stages",
        ),
        ([{"name": "a"}, {"name": "A"}], "stages.1.name", "duplicate"),
        ([{"name": "a", "probability": 101}], "stages.0.probability", "invalid"),
        ([{"name": "a", "expected_days": 0}], "stages.0.expected_days", "invalid"),
        ([{"name": "a", "required_fields": ["budget"]}], "stages.0.required_fields", "invalid"),
        ([{"name": " "}], "stages.0.name", "required"),
    ],
)
def test_it_refuses_a_pipeline_with_bad_stages(admin, stages, field, code):
    with pytest.raises(ValidationError) as caught:
        config.create_pipeline(name="坏的", by=admin, stages=stages)
    assert _codes(caught.value, field) == [code]
    assert not Pipeline.objects.filter(name="坏的").exists()


def test_it_keeps_pipeline_names_unique(admin, renewal):
    with pytest.raises(ValidationError) as caught:
        config.create_pipeline(name=" 续约 ", by=admin)
    assert _codes(caught.value, "name") == ["duplicate"]


def test_it_keeps_exactly_one_default_pipeline(admin, renewal):
    other = config.create_pipeline(name="新业务", by=admin, is_default=True)
    renewal.refresh_from_db()
    assert other.is_default and not renewal.is_default
    config.update_pipeline(renewal, by=admin, version=renewal.version, is_default=True)
    other.refresh_from_db()
    assert renewal.is_default and not other.is_default
    assert Pipeline.objects.filter(is_default=True).count() == 1
    with pytest.raises(ValidationError) as caught:
        config.update_pipeline(renewal, by=admin, is_default=False)
    assert _codes(caught.value, "is_default") == ["default_pipeline"]
    with pytest.raises(ValidationError) as caught:
        config.update_pipeline(renewal, by=admin, active=False)
    assert _codes(caught.value, "active") == ["default_pipeline"]


def test_it_refuses_a_stale_pipeline_edit(admin, renewal):
    stale = renewal.version
    config.update_pipeline(renewal, by=admin, version=stale, description="老客户续约")
    again = Pipeline.objects.get(pk=renewal.pk)
    with pytest.raises(Conflict):
        config.update_pipeline(again, by=admin, version=stale, name="续费")
    assert Pipeline.objects.get(pk=renewal.pk).name == "续约"


def test_it_refuses_to_delete_a_pipeline_open_opportunities_use(admin, people, customer):
    used = records.pipeline("新客户销售", is_default=False)
    config.create_pipeline(name="续约", by=admin, is_default=True)
    used.refresh_from_db()
    opp = records.opportunity(people["rep_east1"], customer, title="华东商机")
    with pytest.raises(ValidationError) as caught:
        config.delete_pipeline(used, by=admin)
    assert _codes(caught.value, "pipeline") == ["in_use"]
    assert "1" in caught.value.messages[0]
    type(opp).objects.filter(pk=opp.pk).update(status="won")
    config.delete_pipeline(used, by=admin)
    assert Pipeline.all_objects.get(pk=used.pk).deleted_at is not None
    config.restore_pipeline(used, by=admin)
    assert Pipeline.objects.filter(pk=used.pk).exists()


def test_it_refuses_to_delete_the_default_pipeline(admin, renewal):
    config.update_pipeline(renewal, by=admin, is_default=True)
    with pytest.raises(ValidationError) as caught:
        config.delete_pipeline(renewal, by=admin)
    assert _codes(caught.value, "is_default") == ["default_pipeline"]


def test_only_administrators_change_the_configuration(people, renewal):
    rep = people["rep_east1"]
    with pytest.raises(PermissionDenied):
        config.create_pipeline(name="我的", by=rep)
    with pytest.raises(PermissionDenied):
        config.update_stage(renewal.stages.first(), by=rep, name="x")
    with pytest.raises(PermissionDenied):
        config.create_product(by=rep, name="机床")
    with pytest.raises(PermissionDenied):
        config.create_lost_reason(by=rep, name="价格")


# --- Stages ------------------------------------------------------------------------------------


def test_it_adds_a_stage_after_the_open_ones_and_before_the_end_stages(admin, renewal):
    stage = config.create_stage(renewal, by=admin, name="续约签署", probability=90)
    names = list(renewal.stages.order_by("sort_order").values_list("name", flat=True))
    assert names == ["续约提醒", "续约报价", "续约签署", "赢单", "输单"]
    assert stage.kind == "open"
    with pytest.raises(ValidationError) as caught:
        config.create_stage(renewal, by=admin, name="续约签署")
    assert _codes(caught.value, "name") == ["duplicate"]
    with pytest.raises(ValidationError) as caught:
        config.create_stage(renewal, by=admin, name="再赢", kind="won")
    assert _codes(caught.value, "kind") == ["end_stages"]


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"probability": -1}, "probability"),
        ({"probability": "abc"}, "probability"),
        ({"probability": 50.5}, "probability"),
        ({"expected_days": 0}, "expected_days"),
        ({"required_fields": ["custom:nope"]}, "required_fields"),
        ({"required_fields": "amount"}, "required_fields"),
        ({"name": "x" * 51}, "name"),
    ],
)
def test_it_refuses_bad_stage_facts(admin, renewal, facts, field):
    stage = renewal.stages.get(name="续约提醒")
    with pytest.raises(ValidationError) as caught:
        config.update_stage(stage, by=admin, **facts)
    assert field in caught.value.error_dict


def test_a_stage_may_require_a_custom_field_of_opportunities(admin, renewal):
    CustomField.objects.create(target="opportunity", key="budget_owner", label="预算负责人")
    stage = renewal.stages.get(name="续约报价")
    config.update_stage(
        stage,
        by=admin,
        version=stage.version,
        required_fields=["amount", "custom:budget_owner", "amount"],
        expected_days="",
    )
    stage.refresh_from_db()
    assert stage.required_fields == ["amount", "custom:budget_owner"]
    assert stage.expected_days is None
    assert config.required_labels(stage.required_fields) == ["amount", "预算负责人"]


def test_end_stages_keep_their_probability(admin, renewal):
    won = renewal.stages.get(kind="won")
    with pytest.raises(ValidationError) as caught:
        config.update_stage(won, by=admin, probability=90)
    assert _codes(caught.value, "probability") == ["end_stage"]
    config.update_stage(won, by=admin, name="成交")
    assert Stage.objects.get(pk=won.pk).name == "成交"


def test_renaming_a_stage_keeps_the_names_in_the_history(admin, people, customer):
    records.pipeline()
    opp = records.opportunity(people["rep_east1"], customer, title="华东商机")
    stage = records.stage("初步接洽")
    config.update_stage(stage, by=admin, version=stage.version, name="首次接触", probability=15)
    visit = StageVisit.objects.get(opportunity=opp)
    assert (visit.stage_name, visit.probability) == ("初步接洽", 10)
    assert visit.stage.name == "首次接触"


def test_it_reorders_the_open_stages(admin, renewal):
    third = config.create_stage(renewal, by=admin, name="续约签署")
    first, second = renewal.stages.get(name="续约提醒"), renewal.stages.get(name="续约报价")
    config.reorder_stages(renewal, [third.pk, first.pk, second.pk], by=admin)
    assert _open_names(renewal) == ["续约签署", "续约提醒", "续约报价"]
    assert list(renewal.stages.order_by("sort_order").values_list("kind", flat=True))[-2:] == [
        "won",
        "lost",
    ]
    for wrong in ([third.pk, first.pk], [third.pk, first.pk, first.pk], [1, 2, 3], ["x"]):
        with pytest.raises(ValidationError) as caught:
            config.reorder_stages(renewal, wrong, by=admin)
        assert _codes(caught.value, "stage_ids") == ["invalid"]
    config.shift_stage(second, by=admin, step=-1)
    assert _open_names(renewal) == ["续约签署", "续约报价", "续约提醒"]
    config.shift_stage(third, by=admin, step=-1)  # first already: stays
    assert _open_names(renewal) == ["续约签署", "续约报价", "续约提醒"]


def test_it_archives_a_stage_but_not_while_open_opportunities_sit_in_it(admin, people, customer):
    records.pipeline()
    records.opportunity(people["rep_east1"], customer, title="A", stage_name="需求确认")
    records.opportunity(people["rep_east1"], customer, title="B", stage_name="需求确认")
    busy = records.stage("需求确认")
    with pytest.raises(ValidationError) as caught:
        config.archive_stage(busy, by=admin)
    assert _codes(caught.value, "stage") == ["in_use"]
    assert "2" in caught.value.messages[0]
    assert Stage.objects.get(pk=busy.pk).active

    idle = records.stage("商务谈判")
    config.archive_stage(idle, by=admin)
    idle.refresh_from_db()
    assert not idle.active and Stage.objects.filter(pk=idle.pk).exists()
    assert "商务谈判" not in _open_names(idle.pipeline)
    # Its name is free again; bringing it back while taken is refused.
    config.unarchive_stage(idle, by=admin)
    assert _open_names(idle.pipeline)[-1] == "商务谈判"


def test_it_never_archives_end_stages_or_the_last_open_stage(admin):
    pipeline = config.create_pipeline(name="简单", by=admin, stages=[{"name": "唯一"}])
    with pytest.raises(ValidationError) as caught:
        config.archive_stage(pipeline.stages.get(kind="won"), by=admin)
    assert _codes(caught.value, "stage") == ["end_stage"]
    with pytest.raises(ValidationError) as caught:
        config.archive_stage(pipeline.stages.get(name="唯一"), by=admin)
    assert _codes(caught.value, "stage") == ["last_open_stage"]


# --- Lost reasons ------------------------------------------------------------------------------


def test_lost_reasons_are_a_list_and_a_used_one_is_deactivated_not_deleted(admin, people, customer):
    price = config.create_lost_reason(by=admin, name="价格太高")
    rival = config.create_lost_reason(by=admin, name="竞品")
    names = list(LostReason.objects.values_list("name", flat=True))
    assert names[-2:] == ["价格太高", "竞品"]  # last, after any there were
    with pytest.raises(ValidationError) as caught:
        config.create_lost_reason(by=admin, name="价格太高")
    assert _codes(caught.value, "name") == ["duplicate"]

    records.pipeline()
    opp = records.opportunity(people["rep_east1"], customer, title="丢单")
    type(opp).objects.filter(pk=opp.pk).update(status="lost", lost_reason=price)
    with pytest.raises(ValidationError) as caught:
        config.delete_lost_reason(price, by=admin)
    assert _codes(caught.value, "lost_reason") == ["in_use"]
    config.update_lost_reason(price, by=admin, version=price.version, active=False)
    assert not LostReason.objects.get(pk=price.pk).active

    config.delete_lost_reason(rival, by=admin)
    assert not LostReason.objects.filter(pk=rival.pk).exists()
    config.restore_lost_reason(LostReason.all_objects.get(pk=rival.pk), by=admin)
    assert LostReason.objects.filter(pk=rival.pk).exists()


# --- Products ----------------------------------------------------------------------------------


def test_products_have_a_unique_code_a_price_and_a_currency(admin):
    lathe = config.create_product(by=admin, name="数控车床", code="CK6140", price="128000.00")
    assert (lathe.price, lathe.currency) == (Decimal("128000.00"), "CNY")
    with pytest.raises(ValidationError) as caught:
        config.create_product(by=admin, name="另一台", code="ck6140")
    assert _codes(caught.value, "code") == ["duplicate"]
    for facts, field in (
        ({"price": "-1"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "1.001"}, "price"),
        ({"currency": "RMB1"}, "currency"),
        ({"currency": "¥"}, "currency"),
        ({"name": ""}, "name"),
    ):
        with pytest.raises(ValidationError) as caught:
            config.update_product(lathe, by=admin, **facts)
        assert field in caught.value.error_dict
    config.update_product(lathe, by=admin, version=lathe.version, currency="usd", price=0)
    lathe.refresh_from_db()
    assert (lathe.currency, lathe.price) == ("USD", Decimal("0"))

    # A deleted product's code is free; it comes back only while nobody took it.
    config.delete_product(lathe, by=admin)
    config.create_product(by=admin, name="新车床", code="CK6140")
    with pytest.raises(ValidationError) as caught:
        config.restore_product(Product.all_objects.get(pk=lathe.pk), by=admin)
    assert _codes(caught.value, "code") == ["duplicate"]
