"""The settings pages of pipelines and stages, lost reasons and products."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.sales import records
from tuoke.sales import config
from tuoke.sales.models import LostReason, Pipeline, Product, Stage

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin(people):
    return people["admin"]


@pytest.fixture
def renewal(admin):
    return config.create_pipeline(
        name="续约",
        by=admin,
        stages=[{"name": "续约提醒", "probability": 20}, {"name": "续约报价", "probability": 60}],
    )


@pytest.fixture
def customer(people):
    from tuoke.customers.services import create_customer

    return create_customer(by=people["rep_east1"], short_name="华东客户")


def test_only_administrators_open_the_settings_pages(people, renewal, login):
    rep = login(people["rep_east1"])
    for name in ("sales:pipeline_list", "sales:lost_reason_list", "sales:product_list"):
        assert rep.get(reverse(name)).status_code == 403
    stage = renewal.stages.first()
    assert rep.get(reverse("sales:stage_edit", args=[stage.pk])).status_code == 404
    assert rep.post(reverse("sales:stage_archive", args=[stage.pk])).status_code == 404
    assert Stage.objects.get(pk=stage.pk).active


def test_the_pipeline_page_lists_stages_in_constant_queries(
    admin, renewal, login, django_assert_max_num_queries
):
    client = login(admin)
    client.get(reverse("sales:pipeline_list"))  # warm the session and the navigation
    for n in range(4):
        config.create_pipeline(name=f"管道{n}", by=admin)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("sales:pipeline_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "续约提醒" in body and "管道3" in body
    assert 'data-testid="pipeline-default"' in body


def test_it_creates_and_edits_a_pipeline(admin, login):
    client = login(admin)
    response = client.post(reverse("sales:pipeline_create"), {"name": "大客户", "active": "on"})
    pipeline = Pipeline.objects.get(name="大客户")
    assert response.status_code == 302 and f"#pipeline-{pipeline.pk}" in response["Location"]
    assert pipeline.stages.count() == 6
    dup = client.post(reverse("sales:pipeline_create"), {"name": "大客户", "active": "on"})
    assert dup.status_code == 200 and "exists already" in dup.content.decode()
    url = reverse("sales:pipeline_edit", args=[pipeline.pk])
    client.post(url, {"name": "大客户项目", "active": "on", "is_default": "on", "version": 1})
    pipeline.refresh_from_db()
    assert pipeline.name == "大客户项目" and pipeline.is_default
    stale = client.post(url, {"name": "再改", "active": "on", "is_default": "on", "version": 1})
    assert "changed by someone else" in stale.content.decode()


def test_it_adds_a_stage_in_place_and_shows_field_errors(admin, renewal, login):
    client = login(admin)
    url = reverse("sales:stage_create", args=[renewal.pk])
    response = client.post(url, {"name": "续约签署", "probability": "90"}, headers=HTMX)
    assert response.status_code == 200
    assert "续约签署" in response.content.decode()
    assert renewal.stages.filter(name="续约签署", kind="open").exists()
    response = client.post(url, {"name": "续约签署", "probability": "90"}, headers=HTMX)
    assert 'data-field-error="name"' in response.content.decode()
    response = client.post(url, {"name": "太高", "probability": "120"}, headers=HTMX)
    assert 'data-field-error="probability"' in response.content.decode()
    assert not renewal.stages.filter(name="太高").exists()


def test_it_edits_a_stage_in_place_with_required_fields_as_checkboxes(admin, renewal, login):
    from tuoke.core.models import CustomField

    CustomField.objects.create(target="opportunity", key="budget_owner", label="预算负责人")
    client = login(admin)
    stage = renewal.stages.get(name="续约报价")
    url = reverse("sales:stage_edit", args=[stage.pk])
    form = client.get(url, headers=HTMX).content.decode()
    assert 'name="required_fields" value="amount"' in form
    assert 'value="custom:budget_owner"' in form
    response = client.post(
        url,
        {
            "name": "续约方案",
            "probability": "65",
            "expected_days": "10",
            "required_fields": ["amount", "custom:budget_owner"],
            "version": stage.version,
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert 'data-testid="stage-row"' in response.content.decode()
    stage.refresh_from_db()
    assert (stage.name, stage.probability, stage.expected_days) == ("续约方案", 65, 10)
    assert stage.required_fields == ["amount", "custom:budget_owner"]
    bad = client.post(
        url, {"name": "续约方案", "probability": "5", "expected_days": "0"}, headers=HTMX
    )
    assert 'data-field-error="expected_days"' in bad.content.decode()


def test_it_reorders_by_drag_and_by_buttons(admin, renewal, login):
    client = login(admin)
    first, second = renewal.stages.get(name="续约提醒"), renewal.stages.get(name="续约报价")
    url = reverse("sales:stage_reorder", args=[renewal.pk])
    response = client.post(url, {"stage_ids": f"{second.pk},{first.pk}"}, headers=HTMX)
    assert response.status_code == 200
    names = list(config.active_stages(renewal).filter(kind="open").values_list("name", flat=True))
    assert names == ["续约报价", "续约提醒"]
    refused = client.post(url, {"stage_ids": str(first.pk)}, headers=HTMX)
    assert 'data-testid="card-error"' in refused.content.decode()
    client.post(reverse("sales:stage_move", args=[first.pk]), {"direction": "up"})
    names = list(config.active_stages(renewal).filter(kind="open").values_list("name", flat=True))
    assert names == ["续约提醒", "续约报价"]


def test_archiving_a_stage_in_use_is_refused_with_a_link_to_its_opportunities(
    admin, people, customer, login
):
    records.pipeline()
    records.opportunity(people["rep_east1"], customer, title="A", stage_name="需求确认")
    stage = records.stage("需求确认")
    client = login(admin)
    url = reverse("sales:stage_archive", args=[stage.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="refusal"' in page
    assert f"{reverse('sales:opportunity_list')}?stage={stage.pk}" in page
    response = client.post(url)
    assert response.status_code == 200 and "1 open opportunities" in response.content.decode()
    assert Stage.objects.get(pk=stage.pk).active

    idle = records.stage("商务谈判")
    response = client.post(reverse("sales:stage_archive", args=[idle.pk]))
    assert response.status_code == 302
    assert not Stage.objects.get(pk=idle.pk).active
    page = client.get(reverse("sales:pipeline_list")).content.decode()
    assert 'data-testid="archived-stage"' in page
    client.post(reverse("sales:stage_unarchive", args=[idle.pk]))
    assert Stage.objects.get(pk=idle.pk).active


def test_deleting_a_pipeline_asks_first_and_can_be_undone(admin, renewal, login):
    client = login(admin)
    spare = config.create_pipeline(name="备用", by=admin)
    url = reverse("sales:pipeline_delete", args=[spare.pk])
    assert 'data-testid="confirm"' in client.get(url).content.decode()
    assert Pipeline.objects.filter(pk=spare.pk).exists()
    client.post(url)
    assert not Pipeline.objects.filter(pk=spare.pk).exists()
    listed = client.get(reverse("sales:pipeline_list")).content.decode()
    assert 'data-testid="pipeline-restore"' in listed
    client.post(reverse("sales:pipeline_restore", args=[spare.pk]))
    assert Pipeline.objects.filter(pk=spare.pk).exists()


def test_lost_reason_pages(admin, people, customer, login):
    client = login(admin)
    client.post(reverse("sales:lost_reason_list"), {"name": "价格太高"})
    reason = LostReason.objects.get(name="价格太高")
    dup = client.post(reverse("sales:lost_reason_list"), {"name": "价格太高"})
    assert 'data-field-error="name"' in dup.content.decode()
    records.pipeline()
    opp = records.opportunity(people["rep_east1"], customer, title="丢单")
    type(opp).objects.filter(pk=opp.pk).update(status="lost", lost_reason=reason)
    url = reverse("sales:lost_reason_delete", args=[reason.pk])
    assert "deactivate the reason instead" in client.get(url).content.decode()
    client.post(url)
    assert LostReason.objects.filter(pk=reason.pk).exists()
    client.post(reverse("sales:lost_reason_toggle", args=[reason.pk]))
    assert not LostReason.objects.get(pk=reason.pk).active
    client.post(
        reverse("sales:lost_reason_edit", args=[reason.pk]),
        {"name": "报价过高", "version": LostReason.objects.get(pk=reason.pk).version},
    )
    assert LostReason.objects.get(pk=reason.pk).name == "报价过高"


def test_product_pages_search_and_paginate(admin, login, django_assert_max_num_queries):
    client = login(admin)
    empty = client.get(reverse("sales:product_list")).content.decode()
    assert 'data-testid="empty-state"' in empty
    response = client.post(
        reverse("sales:product_create"),
        {
            "name": "数控车床",
            "code": "CK6140",
            "unit": "台",
            "price": "128000",
            "currency": "cny",
            "active": "on",
        },
    )
    assert response.status_code == 302
    lathe = Product.objects.get(code="CK6140")
    assert lathe.currency == "CNY"
    bad = client.post(
        reverse("sales:product_create"),
        {"name": "坏", "code": "ck6140", "price": "-1", "currency": "CNY"},
    )
    assert 'data-field-error="price"' in bad.content.decode()
    for n in range(30):
        config.create_product(by=admin, name=f"配件{n:02d}", code=f"P{n:02d}")
    with django_assert_max_num_queries(12):
        page = client.get(reverse("sales:product_list")).content.decode()
    assert page.count('data-testid="product-row"') == 25
    assert 'data-testid="pagination"' in page
    found = client.get(reverse("sales:product_list"), {"q": "ck61"}).content.decode()
    assert found.count('data-testid="product-row"') == 1
    client.post(reverse("sales:product_delete", args=[lathe.pk]))
    assert not Product.objects.filter(pk=lathe.pk).exists()
