"""GET /api/v1/sales/funnel and /api/v1/sales/close-soon: the page's figures as JSON, within
scope, with field errors for bad input (figures from tests/sales/funnel_data.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.sales import funnel_data, records

FUNNEL = "/api/v1/sales/funnel"
CLOSE_SOON = "/api/v1/sales/close-soon"
Q1 = {"period": "custom", "start": "2026-01-01", "end": "2026-03-31"}


@pytest.fixture
def data(people):
    return funnel_data.build(people)


def test_it_gives_the_funnel_figures(login, people, data):
    response = login(people["rep_east1"]).get(FUNNEL, Q1)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["start"], body["end"]) == ("2026-01-01", "2026-03-31")
    assert body["pipeline"]["name"] == "新客户销售"
    assert (body["cohort"], body["won"], body["lost"], body["open"]) == (4, 1, 2, 1)
    assert body["win_rate"] == pytest.approx(1 / 3)
    stages = body["stages"]
    assert [s["reached"] for s in stages] == [4, 3, 2, 1]
    assert [s["entered"] for s in stages] == [4, 3, 2, 1]
    assert [s["conversion"] for s in stages] == pytest.approx([0.75, 2 / 3, 0.5, 1.0])
    assert [(s["median_days"], s["p80_days"]) for s in stages] == [
        (3, 14),
        (10, 10),
        (20, 21),
        (10, 10),
    ]
    assert body["bottleneck"]["name"] == "方案报价"
    assert [s["bottleneck"] for s in stages] == [False, False, True, False]
    assert [(r["reason"]["name"], r["count"]) for r in body["lost_reasons"]] == [
        ("价格过高", 1),
        ("无预算", 1),
    ]


def test_its_links_list_as_many_opportunities_as_the_figures(login, people, data):
    client = login(people["manager_east"])
    body = client.get(FUNNEL, Q1).json()
    for stage in body["stages"]:
        page = client.get(stage["links"]["reached"])
        assert page.context["page_obj"].paginator.count == stage["reached"]
    assert client.get(body["links"]["won"]).context["page_obj"].paginator.count == body["won"]


def test_a_manager_narrows_by_owner_and_the_boss_by_unit(login, people, data):
    body = (
        login(people["manager_east"]).get(FUNNEL, {**Q1, "owner_id": people["rep_east2"].pk}).json()
    )
    assert (body["cohort"], body["won"]) == (1, 1)
    body = login(people["boss"]).get(FUNNEL, {**Q1, "unit_id": people["rep_south1"].unit_id}).json()
    assert body["cohort"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "custom"}, "start"),
        ({"period": "custom", "start": "2026-01-01"}, "end"),
        ({"period": "custom", "start": "2026-03-01", "end": "2026-01-01"}, "end"),
        ({"period": "decade"}, "period"),
        ({"pipeline_id": 999999}, "pipeline_id"),
        ({"start": "yesterday", "period": "custom"}, "start"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(login, people, data, params, field):
    response = login(people["rep_east1"]).get(FUNNEL, params)
    assert response.status_code == 400, response.content
    assert field in [e["field"] for e in response.json()["errors"]]


def test_a_rep_may_not_ask_for_a_colleague_or_another_unit(login, people, data):
    client = login(people["rep_east1"])
    response = client.get(FUNNEL, {**Q1, "owner_id": people["rep_south1"].pk})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "owner_id"
    response = client.get(FUNNEL, {**Q1, "unit_id": people["rep_south1"].unit_id})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "unit_id"


def test_close_soon_ranks_with_reasons(login, people, data):
    rep = people["rep_east1"]
    hot = records.opportunity(rep, data["A"].customer, title="热门商机", stage_name="商务谈判")
    hot.expected_close_date = timezone.localdate() + timedelta(days=5)
    hot.last_activity_at = timezone.now() - timedelta(days=2)
    hot.save()
    response = login(rep).get(CLOSE_SOON)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ranker"] == "stage"
    assert body["owner"]["username"] == "rep_east1"
    first = body["items"][0]
    assert first["opportunity"]["name"] == "热门商机"
    assert first["reasons"] == [
        "stage 商务谈判 80%",
        "active 2 days ago",
        "expected to close in 5 days",
    ]
    # 0.8 × 0.5^(2/14) × 1.0 = 0.725
    assert first["score"] == 72
    assert {i["opportunity"]["name"] for i in body["items"]} == {"热门商机", "D 商机", "E 商机"}


def test_close_soon_for_a_team_member_within_scope_only(login, people, data):
    manager = login(people["manager_east"])
    body = manager.get(CLOSE_SOON, {"owner_id": people["rep_east1"].pk}).json()
    assert {i["opportunity"]["name"] for i in body["items"]} == {"D 商机", "E 商机"}
    response = manager.get(CLOSE_SOON, {"owner_id": people["rep_south1"].pk})
    assert response.status_code == 400
    assert login(people["rep_east1"]).get(CLOSE_SOON, {"limit": 0}).status_code == 400


def test_the_funnel_api_costs_a_few_queries(login, people, data, django_assert_max_num_queries):
    client = login(people["boss"])
    with django_assert_max_num_queries(20):
        assert client.get(FUNNEL, Q1).status_code == 200
