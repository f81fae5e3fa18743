"""The API of pipelines, stages, lost reasons and products."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient
from tests.sales import records
from tuoke.api import api
from tuoke.sales import config
from tuoke.sales.models import LostReason, Pipeline, Product, Stage, StageVisit

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_as():
    """api_as(user) → the API tests' JSON client with that user's session."""
    from django.test import Client

    def make(user):
        client = Client()
        client.force_login(user)
        return ApiClient(client)

    return make


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


def _fields(response) -> dict[str, str]:
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def test_everyone_reads_pipelines_with_their_stages_in_constant_queries(
    people, admin, renewal, api_as, django_assert_max_num_queries
):
    before = Pipeline.objects.count()
    for n in range(5):
        config.create_pipeline(name=f"管道{n}", by=admin)
    client = api_as(people["rep_east1"])
    with django_assert_max_num_queries(6):
        body = client.get("/pipelines").json()
    assert len(body) == before + 5
    [first] = [p for p in body if p["name"] == "续约"]
    assert [s["kind"] for s in first["stages"]] == ["open", "open", "won", "lost"]
    assert sum(p["is_default"] for p in body) == 1
    assert client.get(f"/pipelines/{renewal.pk}").json()["stages"][0]["name"] == "续约提醒"
    stage = renewal.stages.first()
    assert client.get(f"/stages/{stage.pk}").json()["probability"] == 20


def test_an_administrator_creates_a_pipeline_with_stages(admin, api_as):
    client = api_as(admin)
    response = client.post(
        "/pipelines",
        {
            "name": "续约",
            "is_default": True,
            "stages": [
                {"name": "续约提醒", "probability": 20, "expected_days": 30},
                {"name": "续约报价", "probability": 60, "required_fields": ["amount"]},
                {"name": "续约成功", "kind": "won"},
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [(s["name"], s["kind"]) for s in body["stages"]] == [
        ("续约提醒", "open"),
        ("续约报价", "open"),
        ("续约成功", "won"),
        ("输单", "lost"),
    ]
    assert body["stages"][1]["required_fields"] == ["amount"]


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"name": ""}, "name", "required"),
        ({"name": "x", "stages": []}, "stages", "last_open_stage"),
        (
            {"name": "x", "stages": [{"name": "a", "probability": 120}]},
            "stages.0.probability",
            "invalid",
        ),
        (
            {"name": "x", "stages": [{"name": "a", "expected_days": 0}]},
            "stages.0.expected_days",
            "invalid",
        ),
        (
            {"name": "x", "stages": [{"name": "a", "required_fields": ["budget"]}]},
            "stages.0.required_fields",
            "invalid",
        ),
        ({"name": "x", "stages": [{"name": "a", "kind": "maybe"}]}, "stages.0.kind", "invalid"),
    ],
)
def test_it_answers_400_with_the_field_for_bad_pipelines(admin, api_as, payload, field, code):
    response = api_as(admin).post("/pipelines", payload)
    assert response.status_code == 400
    assert _fields(response).get(field) == code, response.json()
    assert not Pipeline.objects.filter(name="x").exists()


def test_reps_read_but_do_not_change_the_configuration(people, renewal, api_as):
    client = api_as(people["rep_east1"])
    assert client.post("/pipelines", {"name": "我的"}).status_code == 403
    response = client.patch(f"/pipelines/{renewal.pk}", {"version": 1, "name": "改"})
    assert response.status_code == 403
    stage = renewal.stages.first()
    assert client.patch(f"/stages/{stage.pk}", {"version": 1, "name": "改"}).status_code == 403
    assert client.delete(f"/stages/{stage.pk}").status_code == 403
    assert client.post("/lost-reasons", {"name": "价格"}).status_code == 403
    assert client.post("/products", {"name": "机床"}).status_code == 403
    assert Pipeline.objects.get(pk=renewal.pk).name == "续约"


def test_it_updates_a_pipeline_with_a_version_check(admin, renewal, api_as):
    client = api_as(admin)
    other = config.create_pipeline(name="新业务", by=admin)
    response = client.patch(
        f"/pipelines/{other.pk}", {"version": other.version, "is_default": True}
    )
    assert response.status_code == 200 and response.json()["is_default"]
    assert list(Pipeline.objects.filter(is_default=True)) == [other]
    stale = client.patch(f"/pipelines/{other.pk}", {"version": other.version, "name": "改名"})
    assert stale.status_code == 409 and _fields(stale) == {"version": "stale_version"}
    missing = client.patch(f"/pipelines/{other.pk}", {"name": "改名"})
    assert missing.status_code == 400 and _fields(missing) == {"version": "required"}


def test_it_adds_updates_reorders_and_archives_stages(admin, renewal, api_as):
    client = api_as(admin)
    response = client.post(
        f"/pipelines/{renewal.pk}/stages",
        {
            "name": "续约签署",
            "probability": 90,
            "required_fields": ["amount", "expected_close_date"],
        },
    )
    assert response.status_code == 201, response.json()
    signing = response.json()
    assert client.post(f"/pipelines/{renewal.pk}/stages", {}).json()["errors"][0]["field"] == "name"
    dup = client.post(f"/pipelines/{renewal.pk}/stages", {"name": "续约签署"})
    assert dup.status_code == 400 and _fields(dup) == {"name": "duplicate"}

    first, second = renewal.stages.get(name="续约提醒"), renewal.stages.get(name="续约报价")
    order = [signing["id"], first.pk, second.pk]
    response = client.post(f"/pipelines/{renewal.pk}/stages/order", {"stage_ids": order})
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["stages"][:3]] == order
    bad = client.post(f"/pipelines/{renewal.pk}/stages/order", {"stage_ids": order[:2]})
    assert bad.status_code == 400 and _fields(bad) == {"stage_ids": "invalid"}

    second.refresh_from_db()  # reordering moved it: a new version
    response = client.patch(
        f"/stages/{second.pk}",
        {"version": second.version, "probability": 70, "expected_days": None},
    )
    assert response.status_code == 200 and response.json()["probability"] == 70
    bad = client.patch(f"/stages/{second.pk}", {"version": second.version + 1, "probability": 101})
    assert bad.status_code == 400 and _fields(bad) == {"probability": "invalid"}

    assert client.delete(f"/stages/{second.pk}").status_code == 204
    assert not Stage.objects.get(pk=second.pk).active
    won = renewal.stages.get(kind="won")
    refused = client.delete(f"/stages/{won.pk}")
    assert refused.status_code == 400 and _fields(refused) == {"stage": "end_stage"}


def test_it_refuses_to_archive_a_stage_open_opportunities_sit_in(admin, people, api_as):
    from tuoke.customers.services import create_customer

    customer = create_customer(by=people["rep_east1"], short_name="华东客户")
    opp = records.opportunity(people["rep_east1"], customer, title="A", stage_name="需求确认")
    stage = records.stage("需求确认")
    response = api_as(admin).delete(f"/stages/{stage.pk}")
    assert response.status_code == 400
    assert _fields(response) == {"stage": "in_use"}
    assert "1" in response.json()["detail"]
    # Renaming it keeps the history's name.
    api_as(admin).patch(f"/stages/{stage.pk}", {"version": stage.version, "name": "需求调研"})
    assert StageVisit.objects.get(opportunity=opp).stage_name == "需求确认"


def test_a_pipeline_in_use_cannot_be_deleted(admin, people, api_as):
    from tuoke.customers.services import create_customer

    used = records.pipeline(is_default=False)
    config.create_pipeline(name="续约", by=admin, is_default=True)
    customer = create_customer(by=people["rep_east1"], short_name="华东客户")
    records.opportunity(people["rep_east1"], customer, title="A")
    client = api_as(admin)
    response = client.delete(f"/pipelines/{used.pk}")
    assert response.status_code == 400 and _fields(response) == {"pipeline": "in_use"}
    empty = config.create_pipeline(name="空管道", by=admin)
    assert client.delete(f"/pipelines/{empty.pk}").status_code == 204
    assert client.get(f"/pipelines/{empty.pk}").status_code == 404
    stage = Stage.objects.filter(pipeline=empty).first()
    assert client.get(f"/stages/{stage.pk}").status_code == 404


def test_lost_reasons_api(admin, people, api_as):
    client = api_as(admin)
    price = client.post("/lost-reasons", {"name": "价格太高"}).json()
    client.post("/lost-reasons", {"name": "竞品"})
    dup = client.post("/lost-reasons", {"name": "价格太高"})
    assert dup.status_code == 400 and _fields(dup) == {"name": "duplicate"}
    response = client.patch(f"/lost-reasons/{price['id']}", {"version": 1, "active": False})
    assert response.status_code == 200 and not response.json()["active"]
    rep = api_as(people["rep_east1"])
    names = [r["name"] for r in rep.get("/lost-reasons").json()]
    assert "竞品" in names and "价格太高" not in names
    everything = rep.get("/lost-reasons", {"include_inactive": "true"}).json()
    assert "价格太高" in [r["name"] for r in everything]
    assert client.delete(f"/lost-reasons/{price['id']}").status_code == 204
    assert LostReason.all_objects.get(pk=price["id"]).deleted_at is not None


def test_products_api(admin, people, api_as, django_assert_max_num_queries):
    client = api_as(admin)
    response = client.post(
        "/products", {"name": "数控车床", "code": "CK6140", "unit": "台", "price": "128000.00"}
    )
    assert response.status_code == 201, response.json()
    lathe = response.json()
    assert lathe["currency"] == "CNY" and lathe["price"] == "128000.00"
    for n in range(25):
        config.create_product(by=admin, name=f"配件{n:02d}", code=f"P{n:02d}", price=n)
    for payload, field in (
        ({"name": "x", "price": "-5"}, "price"),
        ({"name": "x", "currency": "RMB1"}, "currency"),
        ({"name": "x", "currency": "12$"}, "currency"),
        ({"name": "x", "code": "ck6140"}, "code"),
    ):
        bad = client.post("/products", payload)
        assert bad.status_code == 400 and field in _fields(bad), (payload, bad.json())

    rep = api_as(people["rep_east1"])
    with django_assert_max_num_queries(6):
        body = rep.get("/products", {"page_size": 50}).json()
    assert body["count"] == 26
    assert rep.get("/products", {"q": "ck61"}).json()["items"][0]["name"] == "数控车床"

    response = client.patch(f"/products/{lathe['id']}", {"version": 1, "price": "118000"})
    assert response.status_code == 200 and response.json()["price"] == "118000.00"
    stale = client.patch(f"/products/{lathe['id']}", {"version": 1, "price": "1"})
    assert stale.status_code == 409
    assert client.delete(f"/products/{lathe['id']}").status_code == 204
    assert not Product.objects.filter(pk=lathe["id"]).exists()
    assert client.get(f"/products/{lathe['id']}").status_code == 404


def test_the_openapi_document_shows_examples():
    schema = api.get_openapi_schema(custom_fields=False)
    for path in (
        "/api/v1/pipelines",
        "/api/v1/pipelines/{pipeline_id}/stages/order",
        "/api/v1/stages/{stage_id}",
        "/api/v1/lost-reasons",
        "/api/v1/products/{product_id}",
    ):
        assert path in schema["paths"], path
    pipeline_in = schema["components"]["schemas"]["PipelineIn"]
    assert pipeline_in["properties"]["stages"]["examples"]
