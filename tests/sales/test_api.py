"""The opportunities API: scope (404 on every id route, 400 for ids of a body the caller may
not see), lists with filters, pagination and a constant number of queries, create with lines,
version conflicts, moves stopped by a stage's required field, win, lose, reopen, history."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tuoke.customers.services import create_customer
from tuoke.sales.models import LostReason, Opportunity, OpportunityLine, Product, StageVisit

from . import records


@pytest.fixture
def sales(people):
    """rep_east1's customer 腾达精密 (with a contact) and two of his deals, rep_east2's deal,
    and rep_south1's (out of rep_east1's scope)."""
    rep = people["rep_east1"]
    records.pipeline()
    customer = create_customer(
        by=rep, short_name="腾达精密", contacts=[{"name": "王强", "mobile": "13800138000"}]
    )
    first = records.opportunity(rep, customer, title="五轴设备采购", amount="500000")
    second = records.opportunity(
        rep, customer, title="夹具年度框架", stage_name="需求确认", amount="80000"
    )
    colleague_customer = create_customer(by=people["rep_east2"], short_name="东方电气")
    colleague = records.opportunity(people["rep_east2"], colleague_customer, title="东方电机")
    south = records.south_opportunity(people)
    return {
        "customer": customer,
        "first": first,
        "second": second,
        "colleague": colleague,
        "south": south,
    }


def _post(client, url, data):
    return client.post(url, data, content_type="application/json")


def _patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def _errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


# --- Lists ------------------------------------------------------------------------------------


def test_it_lists_only_opportunities_in_scope_in_constant_queries(
    people, sales, login, django_assert_max_num_queries
):
    rep = people["rep_east1"]
    product = Product.objects.create(name="五轴加工中心", price=Decimal("680000"))
    contact = sales["customer"].contacts.get()
    for i in range(25):
        opp = records.opportunity(rep, sales["customer"], title=f"商机{i:02d}", amount="1000")
        opp.contacts.add(contact)
        opp.team.add(people["rep_east2"])
        OpportunityLine.objects.create(
            opportunity=opp, product=product, name="五轴", quantity=2, unit_price=500
        )
    client = login(rep)
    client.get("/api/v1/opportunities?page_size=5")  # the session and grants, read once
    # session, user, grants, his team deals, count, page, contacts, team, lines, custom fields
    with django_assert_max_num_queries(10) as few:
        small = client.get("/api/v1/opportunities?page_size=5").json()
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get("/api/v1/opportunities?page_size=50").json()
    assert len(small["items"]) == 5
    assert body["count"] == 27
    titles = {o["title"] for o in body["items"]}
    assert "五轴设备采购" in titles and "东方电机" not in titles and "南方商机" not in titles
    line = next(o for o in body["items"] if o["title"] == "商机00")["lines"][0]
    assert line["product"]["name"] == "五轴加工中心" and line["amount"] == "1000.00"
    manager = login(people["manager_east"]).get("/api/v1/opportunities?page_size=50").json()
    assert manager["count"] == 28  # his team's: rep_east2's deal too, not 华南's


def test_team_members_see_the_deal_beside_its_owner(people, sales, login):
    client = login(people["rep_east2"])
    url = f"/api/v1/opportunities/{sales['first'].pk}"
    assert client.get(url).status_code == 404
    sales["first"].team.add(people["rep_east2"])
    body = client.get(url).json()
    assert body["title"] == "五轴设备采购"
    assert body["team"] == [
        {"id": people["rep_east2"].pk, "username": "rep_east2", "display_name": "刘洋"}
    ]


def test_it_filters_and_sorts(people, sales, login):
    client = login(people["rep_east1"])
    first, second = sales["first"], sales["second"]
    Opportunity.objects.filter(pk=first.pk).update(expected_close_date=date(2026, 12, 20))
    Opportunity.objects.filter(pk=second.pk).update(
        expected_close_date=date(2027, 3, 1), status="won"
    )

    def titles(**params):
        response = client.get("/api/v1/opportunities", params)
        assert response.status_code == 200, response.json()
        return [o["title"] for o in response.json()["items"]]

    assert titles(status="won") == ["夹具年度框架"]
    assert titles(stage=records.stage("需求确认").pk) == ["夹具年度框架"]
    assert titles(pipeline=records.pipeline().pk, sort="amount") == ["夹具年度框架", "五轴设备采购"]
    assert titles(sort="-amount") == ["五轴设备采购", "夹具年度框架"]
    assert titles(close_from="2027-01-01") == ["夹具年度框架"]
    assert titles(close_until="2026-12-31") == ["五轴设备采购"]
    assert titles(q="夹具") == ["夹具年度框架"]
    assert titles(q="腾达") == ["五轴设备采购", "夹具年度框架"] or titles(q="腾达") == [
        "夹具年度框架",
        "五轴设备采购",
    ]
    assert titles(customer=sales["customer"].pk, sort="title") == sorted(
        ["五轴设备采购", "夹具年度框架"]
    )
    assert titles(owner=people["rep_east2"].pk) == []  # his colleague's deal is not in scope
    bad = client.get("/api/v1/opportunities", {"status": "maybe", "close_from": "soon"})
    assert bad.status_code == 400
    assert {"status", "close_from"} <= set(_errors(bad))


def test_it_pages_and_caps_the_count(people, sales, login, settings):
    rep = people["rep_east1"]
    for i in range(8):
        records.opportunity(rep, sales["customer"], title=f"商机{i}")
    client = login(rep)
    page = client.get("/api/v1/opportunities", {"page_size": 4, "page": 3}).json()
    assert (page["count"], page["count_capped"], page["page"], len(page["items"])) == (
        10,
        False,
        3,
        2,
    )
    settings.LIST_COUNT_CAP = 5
    capped = client.get("/api/v1/opportunities", {"page_size": 4}).json()
    assert (capped["count"], capped["count_capped"]) == (5, True)


# --- Reading ----------------------------------------------------------------------------------


def test_it_reads_one_opportunity_with_its_stage_and_weighted_amount(people, sales, login):
    body = login(people["rep_east1"]).get(f"/api/v1/opportunities/{sales['second'].pk}").json()
    assert body["stage"]["name"] == "需求确认" and body["stage"]["probability"] == 30
    assert body["pipeline"]["name"] == "新客户销售"
    assert body["customer"] == {"id": sales["customer"].pk, "name": "腾达精密"}
    assert body["amount"] == "80000.00" and body["weighted_amount"] == "24000.00"
    assert body["status"] == "open" and body["version"] == sales["second"].version


def test_the_history_gives_the_days_spent_in_each_stage(people, sales, login):
    opp = sales["second"]
    start = timezone.now() - timedelta(days=10)
    visit = opp.stage_visits.get()
    first_stage = records.stage("初步接洽")
    StageVisit.objects.create(
        opportunity=opp,
        stage=first_stage,
        stage_name="接洽（旧名）",
        probability=5,
        entered_at=start,
        left_at=start + timedelta(days=4),
        by=people["rep_east1"],
    )
    StageVisit.objects.filter(pk=visit.pk).update(entered_at=start + timedelta(days=4))
    history = login(people["rep_east1"]).get(f"/api/v1/opportunities/{opp.pk}/history").json()
    assert [h["stage_name"] for h in history] == ["接洽（旧名）", "需求确认"]
    assert history[0]["stage"]["name"] == "初步接洽"  # the stage as it is now
    assert history[0]["probability"] == 5 and history[0]["days"] == 4.0
    assert history[0]["expected_days"] == 14 and history[0]["by"]["username"] == "rep_east1"
    assert history[1]["left_at"] is None and history[1]["days"] == pytest.approx(6.0, abs=0.1)


# --- Scope ------------------------------------------------------------------------------------

ID_ROUTES = [
    ("get", ""),
    ("patch", ""),
    ("delete", ""),
    ("post", "/move"),
    ("post", "/win"),
    ("post", "/lose"),
    ("post", "/reopen"),
    ("get", "/history"),
]


@pytest.mark.parametrize(("method", "suffix"), ID_ROUTES)
def test_every_id_route_answers_404_out_of_scope_whatever_the_body(
    people, sales, login, method, suffix
):
    south = sales["south"]
    client = login(people["rep_east1"])
    body = {
        "version": south.version,
        "title": "改",
        "stage_id": records.stage("需求确认").pk,
        "reason_id": LostReason.objects.create(name="价格过高").pk,
    }
    url = f"/api/v1/opportunities/{south.pk}{suffix}"
    if method in ("get", "delete"):
        response = getattr(client, method)(url)
    else:
        response = getattr(client, method)(url, body, content_type="application/json")
    assert response.status_code == 404, (method, suffix, response.content)
    assert "南方" not in response.content.decode()
    south.refresh_from_db()
    assert (south.title, south.stage.name, south.status, south.deleted_at) == (
        "南方商机",
        "初步接洽",
        "open",
        None,
    )
    assert client.get("/api/v1/opportunities/999999").status_code == 404


def test_ids_in_a_body_out_of_scope_are_field_errors_that_leak_nothing(people, sales, login):
    client = login(people["rep_east1"])
    south_customer = sales["south"].customer
    response = _post(
        client, "/api/v1/opportunities", {"customer_id": south_customer.pk, "title": "抢单"}
    )
    assert response.status_code == 400
    assert set(_errors(response)) == {"customer_id"}
    assert "南方" not in response.content.decode()
    response = _post(
        client,
        "/api/v1/opportunities",
        {
            "customer_id": sales["customer"].pk,
            "title": "带别人的联系人",
            "contact_ids": [south_customer.contacts.get().pk],
        },
    )
    assert response.status_code == 400 and set(_errors(response)) == {"contact_ids"}
    assert "陈先生" not in response.content.decode()
    assert not Opportunity.objects.filter(title__in=["抢单", "带别人的联系人"]).exists()


def test_a_rep_may_not_create_for_nobody_or_without_a_customer(people, sales, login):
    client = login(people["rep_east1"])
    response = _post(client, "/api/v1/opportunities", {"title": ""})
    assert response.status_code == 400
    assert {"customer_id", "title"} <= set(_errors(response))
    finance = login(people["finance1"])  # reads every deal, opens none
    payload = {"customer_id": sales["customer"].pk, "title": "财务代开"}
    assert _post(finance, "/api/v1/opportunities", payload).status_code == 403
    assert finance.get(f"/api/v1/opportunities/{sales['south'].pk}").status_code == 200


# --- Writes (through the services) ------------------------------------------------------------


def test_it_creates_an_opportunity_with_lines_in_the_first_stage(people, sales, login):
    client = login(people["rep_east1"])
    product = Product.objects.create(name="五轴加工中心", code="VMC-850", price=680000)
    contact = sales["customer"].contacts.get()
    response = _post(
        client,
        "/api/v1/opportunities",
        {
            "customer_id": sales["customer"].pk,
            "title": "二期扩产",
            "expected_close_date": "2026-12-20",
            "contact_ids": [contact.pk],
            "team_ids": [people["rep_east2"].pk],
            "lines": [
                {"product_id": product.pk, "name": "五轴加工中心", "quantity": "2"},
                {"name": "安装调试", "quantity": 1, "unit_price": "20000"},
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["stage"]["name"] == "初步接洽" and body["status"] == "open"
    assert body["owner"]["username"] == "rep_east1"
    assert body["amount"] == "1380000.00"
    assert [(line["name"], line["amount"]) for line in body["lines"]] == [
        ("五轴加工中心", "1360000.00"),
        ("安装调试", "20000.00"),
    ]
    assert body["contacts"] == [{"id": contact.pk, "name": "王强"}]
    assert [m["username"] for m in body["team"]] == ["rep_east2"]
    history = client.get(f"/api/v1/opportunities/{body['id']}/history").json()
    assert [h["stage_name"] for h in history] == ["初步接洽"]


def test_creating_in_a_stage_needing_an_amount_names_the_field(people, sales, login):
    client = login(people["rep_east1"])
    response = _post(
        client,
        "/api/v1/opportunities",
        {
            "customer_id": sales["customer"].pk,
            "title": "直接报价",
            "stage_id": records.stage("方案报价").pk,
        },
    )
    assert response.status_code == 400
    errors = _errors(response)
    assert "amount" in errors and "方案报价" in errors["amount"]


def test_it_edits_with_the_version_read_and_refuses_a_stale_one(people, sales, login):
    client = login(people["rep_east1"])
    opp = sales["first"]
    url = f"/api/v1/opportunities/{opp.pk}"
    missing = _patch(client, url, {"title": "无版本"})
    assert missing.status_code == 400 and "version" in _errors(missing)
    ok = _patch(client, url, {"version": opp.version, "title": "五轴设备采购（二期）"})
    assert ok.status_code == 200, ok.json()
    assert ok.json()["title"] == "五轴设备采购（二期）"
    assert ok.json()["version"] == opp.version + 1
    stale = _patch(client, url, {"version": opp.version, "title": "被覆盖"})
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["field"] == "version"
    opp.refresh_from_db()
    assert opp.title == "五轴设备采购（二期）"
    cleared = _patch(client, url, {"version": opp.version, "amount": None})
    assert cleared.status_code == 200 and cleared.json()["amount"] is None
    null_title = _patch(client, url, {"version": opp.version + 1, "title": None})
    assert null_title.status_code == 400 and "title" in _errors(null_title)


def test_a_move_missing_a_required_field_is_refused_with_the_field(people, sales, login):
    client = login(people["rep_east1"])
    opp = sales["second"]
    Opportunity.objects.filter(pk=opp.pk).update(amount=None)
    url = f"/api/v1/opportunities/{opp.pk}/move"
    quote = records.stage("方案报价")
    response = _post(client, url, {"stage_id": quote.pk})
    assert response.status_code == 400
    errors = _errors(response)
    assert "amount" in errors and "方案报价" in errors["amount"]
    opp.refresh_from_db()
    assert opp.stage.name == "需求确认" and opp.stage_visits.count() == 1
    assert _post(client, url, {}).status_code == 400  # stage_id is required


def test_it_moves_a_deal_and_records_the_history(people, sales, login):
    client = login(people["rep_east1"])
    opp = sales["first"]
    quote = records.stage("方案报价")
    response = _post(
        client, f"/api/v1/opportunities/{opp.pk}/move", {"stage_id": quote.pk, "version": 0}
    )
    assert response.status_code == 409
    response = _post(
        client,
        f"/api/v1/opportunities/{opp.pk}/move",
        {"stage_id": quote.pk, "version": opp.version},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["stage"]["name"] == "方案报价"
    history = client.get(f"/api/v1/opportunities/{opp.pk}/history").json()
    assert [h["stage_name"] for h in history] == ["初步接洽", "方案报价"]
    assert history[0]["left_at"] is not None and history[1]["left_at"] is None


def test_a_stage_of_another_pipeline_or_an_end_stage_is_not_a_move(people, sales, login):
    client = login(people["rep_east1"])
    opp = sales["first"]
    other = records.stage("需求确认", pipeline_name="续约")
    url = f"/api/v1/opportunities/{opp.pk}/move"
    assert _post(client, url, {"stage_id": other.pk}).status_code == 400
    won = records.stage("赢单")
    assert _post(client, url, {"stage_id": won.pk}).status_code == 400
    assert _post(client, url, {"stage_id": 10**9}).status_code == 400
    opp.refresh_from_db()
    assert opp.stage.name == "初步接洽"


def test_it_wins_and_loses_deals(people, sales, login):
    client = login(people["rep_east1"])
    first, second = sales["first"], sales["second"]
    won = _post(client, f"/api/v1/opportunities/{first.pk}/win", {"note": "签约 2 台"})
    assert won.status_code == 200, won.json()
    assert won.json()["status"] == "won" and won.json()["stage"]["kind"] == "won"
    assert won.json()["close_note"] == "签约 2 台" and won.json()["closed_at"]
    url = f"/api/v1/opportunities/{second.pk}/lose"
    no_reason = _post(client, url, {"note": "价格"})
    assert no_reason.status_code == 400 and "reason_id" in _errors(no_reason)
    price = LostReason.objects.create(name="价格过高")
    lost = _post(client, url, {"reason_id": price.pk, "note": "竞品低 20%"})
    assert lost.status_code == 200, lost.json()
    assert lost.json()["status"] == "lost"
    assert lost.json()["lost_reason"] == {"id": price.pk, "name": "价格过高"}
    again = _post(client, f"/api/v1/opportunities/{first.pk}/win", {})
    assert again.status_code == 400  # a closed deal is not won twice


def test_only_managers_reopen_a_closed_deal(people, sales, login):
    opp = sales["first"]
    rep = login(people["rep_east1"])
    assert _post(rep, f"/api/v1/opportunities/{opp.pk}/win", {}).status_code == 200
    payload = {"stage_id": records.stage("方案报价").pk}
    assert _post(rep, f"/api/v1/opportunities/{opp.pk}/reopen", payload).status_code == 403
    manager = login(people["manager_east"])
    missing = _post(manager, f"/api/v1/opportunities/{opp.pk}/reopen", {})
    assert missing.status_code == 400 and "stage_id" in _errors(missing)
    response = _post(manager, f"/api/v1/opportunities/{opp.pk}/reopen", payload)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "open"
    assert response.json()["stage"]["name"] == "方案报价"


def test_it_deletes_softly(people, sales, login):
    client = login(people["rep_east1"])
    opp = sales["first"]
    assert client.delete(f"/api/v1/opportunities/{opp.pk}").status_code == 204
    assert Opportunity.all_objects.get(pk=opp.pk).deleted_at is not None
    assert client.get(f"/api/v1/opportunities/{opp.pk}").status_code == 404
    assert client.get("/api/v1/opportunities").json()["count"] == 1


def test_the_openapi_document_describes_the_routes_with_examples(people, login):
    schema = login(people["rep_east1"]).get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/opportunities", "/api/v1/opportunities/{opportunity_id}/move"):
        assert path in paths
    out = schema["components"]["schemas"]["OpportunityOut"]["properties"]
    assert out["title"]["examples"] == ["腾达精密 2026 年五轴设备采购"]
    assert "stage_id" in schema["components"]["schemas"]["MoveIn"]["required"]


def test_managers_transfer_deals_all_or_nothing(people, sales, login):
    payload = {
        "opportunity_ids": [sales["first"].pk, sales["second"].pk],
        "to_user_id": people["rep_east2"].pk,
        "reason": "张伟休假",
    }
    url = "/api/v1/opportunities/transfer"
    assert _post(login(people["rep_east1"]), url, payload).status_code == 403
    manager = login(people["manager_east"])
    with_south = {**payload, "opportunity_ids": [sales["first"].pk, sales["south"].pk]}
    assert _post(manager, url, with_south).status_code == 404
    sales["first"].refresh_from_db()
    assert sales["first"].owner == people["rep_east1"]
    response = _post(manager, url, payload)
    assert response.status_code == 200, response.json()
    assert response.json() == {"transferred": 2}
    sales["first"].refresh_from_db()
    assert sales["first"].owner == people["rep_east2"]


def test_custom_fields_are_read_and_changed_key_by_key(people, sales, login):
    from tuoke.core.custom_fields import create_custom_field

    create_custom_field(
        target="opportunity", key="budget", label="预算", kind="text", by=people["admin"]
    )
    create_custom_field(
        target="opportunity", key="competitor", label="竞争对手", kind="text", by=people["admin"]
    )
    client = login(people["rep_east1"])
    opp = sales["first"]
    url = f"/api/v1/opportunities/{opp.pk}"
    first = _patch(client, url, {"version": opp.version, "custom": {"budget": "300万"}})
    assert first.status_code == 200, first.json()
    second = _patch(
        client, url, {"version": first.json()["version"], "custom": {"competitor": "德马吉"}}
    )
    assert second.json()["custom"] == {"budget": "300万", "competitor": "德马吉"}
    cleared = _patch(client, url, {"version": second.json()["version"], "custom": {"budget": None}})
    assert cleared.json()["custom"] == {"competitor": "德马吉"}


def test_a_required_custom_field_of_a_stage_is_named_by_its_path(people, sales, login):
    from tuoke.core.custom_fields import create_custom_field

    create_custom_field(
        target="opportunity", key="budget", label="预算", kind="text", by=people["admin"]
    )
    stage = records.stage("需求确认")
    stage.required_fields = ["custom:budget"]
    stage.save()
    client = login(people["rep_east1"])
    response = _post(
        client, f"/api/v1/opportunities/{sales['first'].pk}/move", {"stage_id": stage.pk}
    )
    assert response.status_code == 400
    errors = _errors(response)
    assert "custom.budget" in errors and "预算" in errors["custom.budget"]
