"""The opportunity pages: the list (scope, filters, bulk actions, query counts), creating one
from a customer with product lines, its page (stage path, history, moves, win, lose, reopen),
edits with the version check, delete and restore, and the card on the customer's page."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tuoke.core.models import AuditEntry
from tuoke.sales.models import LostReason, Opportunity, Product, StageVisit

from . import records

pytestmark = pytest.mark.django_db


def _customer(owner, name="东方电子", contacts=("王经理",)):
    from tuoke.customers.models import Customer
    from tuoke.customers.services import create_customer

    return Customer.objects.filter(short_name=name).first() or create_customer(
        by=owner, short_name=name, contacts=[{"name": c} for c in contacts]
    )


@pytest.fixture
def pipeline(people):
    return records.pipeline()


@pytest.fixture
def east_customer(rep_east, pipeline):
    return _customer(rep_east)


@pytest.fixture
def east_opp(rep_east, east_customer):
    return records.opportunity(rep_east, east_customer, title="东方电子扩产")


@pytest.fixture
def price_reason(db):
    return LostReason.objects.create(name="价格太高", sort_order=10)


@pytest.fixture
def product(db):
    return Product.objects.create(name="工业网关", code="GW-100", price=Decimal("1200.00"))


def _post_opportunity(client, customer, **fields):
    data = {
        "customer": customer.pk,
        "title": "新商机",
        "currency": "CNY",
        "pipeline": records.pipeline().pk,
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
        **fields,
    }
    return client.post(reverse("sales:opportunity_create"), data)


# --- The list -----------------------------------------------------------------------------------


def test_it_lists_only_the_opportunities_in_the_users_scope(login, people, east_opp):
    south = records.south_opportunity(people)
    response = login(people["rep_east1"]).get(reverse("sales:opportunity_list"))
    assert response.status_code == 200
    shown = [row["opportunity"].pk for row in response.context["rows"]]
    assert east_opp.pk in shown
    assert south.pk not in shown


def test_it_lists_in_a_constant_number_of_queries(
    login, people, rep_east, east_customer, django_assert_max_num_queries
):
    client = login(rep_east)
    url = reverse("sales:opportunity_list") + "?cols=customer,amount,stage,owner,unit,pipeline"
    records.opportunity(rep_east, east_customer, title="商机0")
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for n in range(1, 12):
        records.opportunity(rep_east, east_customer, title=f"商机{n}", amount="1000")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) == 12


def test_it_filters_by_status_stage_close_month_customer_and_search(
    login, rep_east, east_customer, east_opp, pipeline
):
    other_customer = _customer(rep_east, "西部机械", contacts=("李工",))
    later = records.opportunity(rep_east, other_customer, title="西部改造", stage_name="需求确认")
    Opportunity.objects.filter(pk=later.pk).update(expected_close_date=date(2026, 3, 15))
    client = login(rep_east)
    url = reverse("sales:opportunity_list")

    def shown(**params):
        response = client.get(url, {"view": "all", **params})
        assert response.status_code == 200
        return {row["opportunity"].title for row in response.context["rows"]}

    assert shown(stage=records.stage("需求确认").pk) == {"西部改造"}
    assert shown(close_month="2026-03") == {"西部改造"}
    assert shown(close_month="2026-04") == set()
    assert shown(customer=east_customer.pk) == {"东方电子扩产"}
    assert shown(q="西部") == {"西部改造"}
    assert shown(status="open", pipeline=pipeline.pk) == {"东方电子扩产", "西部改造"}
    assert shown(status="won") == set()


def test_it_refuses_a_bad_month_with_a_message_not_an_error(login, rep_east, east_opp):
    response = login(rep_east).get(reverse("sales:opportunity_list"), {"close_month": "2026-13"})
    assert response.status_code == 400
    assert "YYYY-MM" in response.content.decode()


def test_it_shows_an_empty_state(login, rep_east, pipeline):
    response = login(rep_east).get(reverse("sales:opportunity_list"))
    assert b'data-testid="empty-state"' in response.content


def test_a_manager_gives_opportunities_to_another_rep_in_bulk(
    login, people, manager_east, rep_east, rep_east2, east_opp
):
    client = login(manager_east)
    data = {
        "ids": [east_opp.pk],
        "action": "assign",
        "to": rep_east2.pk,
        "reason": "休假交接",
    }
    confirm = client.post(reverse("sales:opportunity_bulk"), data)
    assert confirm.status_code == 200
    assert "东方电子扩产" in confirm.content.decode()
    east_opp.refresh_from_db()
    assert east_opp.owner == rep_east
    done = client.post(reverse("sales:opportunity_bulk"), {**data, "confirm": "1"})
    assert done.status_code == 302
    east_opp.refresh_from_db()
    assert east_opp.owner == rep_east2


def test_a_rep_may_not_hand_over_and_deletes_in_bulk(login, rep_east, rep_east2, east_opp):
    client = login(rep_east)
    refused = client.post(
        reverse("sales:opportunity_bulk"),
        {
            "ids": [east_opp.pk],
            "action": "assign",
            "to": rep_east2.pk,
            "reason": "x",
            "confirm": "1",
        },
    )
    assert refused.status_code == 400
    east_opp.refresh_from_db()
    assert east_opp.owner == rep_east
    done = client.post(
        reverse("sales:opportunity_bulk"),
        {"ids": [east_opp.pk], "action": "delete", "confirm": "1"},
    )
    assert done.status_code == 302
    assert not Opportunity.objects.filter(pk=east_opp.pk).exists()
    assert Opportunity.all_objects.filter(pk=east_opp.pk, deleted_at__isnull=False).exists()


def test_a_bulk_action_on_an_unseen_opportunity_answers_404(login, people, rep_east, east_opp):
    south = records.south_opportunity(people)
    response = login(rep_east).post(
        reverse("sales:opportunity_bulk"),
        {"ids": [east_opp.pk, south.pk], "action": "delete", "confirm": "1"},
    )
    assert response.status_code == 404
    assert Opportunity.objects.filter(pk=south.pk).exists()


def test_the_list_has_saved_views(login, rep_east, pipeline):
    client = login(rep_east)
    response = client.post(
        reverse("sales:saved_view_create"),
        {"name": "本月成交", "query": "status=open&close_month=2026-03"},
    )
    assert response.status_code == 302
    listing = client.get(reverse("sales:saved_view_list"))
    assert "本月成交" in listing.content.decode()


# --- Creating -----------------------------------------------------------------------------------


def test_it_asks_for_the_customer_first(login, rep_east, east_customer):
    response = login(rep_east).get(reverse("sales:opportunity_create"), {"q": "东方"})
    assert response.status_code == 200
    assert f"?customer={east_customer.pk}" in response.content.decode()


def test_a_rep_creates_an_opportunity_with_product_lines(login, rep_east, east_customer, product):
    contact = east_customer.contacts.get()
    client = login(rep_east)
    page = client.get(reverse("sales:opportunity_create"), {"customer": east_customer.pk})
    assert page.status_code == 200
    assert [p["name"] for p in page.context["catalogue"]] == ["工业网关"]
    response = _post_opportunity(
        client,
        east_customer,
        title="产线网关改造",
        contacts=[contact.pk],
        **{
            "lines-TOTAL_FORMS": "2",
            "lines-0-product": product.pk,
            "lines-0-name": "",
            "lines-0-quantity": "3",
            "lines-0-unit_price": "",
            "lines-1-name": "安装调试",
            "lines-1-quantity": "1",
            "lines-1-unit_price": "800",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    opp = Opportunity.objects.get(title="产线网关改造")
    assert response.url == reverse("sales:opportunity_detail", args=[opp.pk])
    assert opp.owner == rep_east
    assert opp.stage.name == "初步接洽"
    assert opp.amount == Decimal("4400.00")
    assert [(line.name, line.amount) for line in opp.lines.all()] == [
        ("工业网关", Decimal("3600.00")),
        ("安装调试", Decimal("800.00")),
    ]
    assert list(opp.contacts.all()) == [contact]
    assert StageVisit.objects.filter(opportunity=opp).count() == 1


def test_a_line_without_a_price_is_refused_on_its_field(login, rep_east, east_customer):
    response = _post_opportunity(
        login(rep_east),
        east_customer,
        **{"lines-TOTAL_FORMS": "1", "lines-0-name": "定制开发", "lines-0-quantity": "1"},
    )
    assert response.status_code == 400
    rows = response.context["line_rows"]
    assert rows[0]["name"] == "定制开发"
    assert rows[0]["errors"]["unit_price"]
    assert not Opportunity.objects.filter(title="新商机").exists()


def test_a_stage_that_requires_an_amount_says_so_on_the_field(login, rep_east, east_customer):
    response = _post_opportunity(login(rep_east), east_customer, stage=records.stage("方案报价").pk)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "amount" in errors
    assert "方案报价" in errors["amount"][0]


def test_a_stage_of_another_pipeline_is_refused(login, rep_east, east_customer):
    renewal = records.pipeline("续约", is_default=False)
    response = _post_opportunity(
        login(rep_east), east_customer, stage=renewal.stages.filter(kind="open").first().pk
    )
    assert response.status_code == 400
    assert "stage" in response.context["form"].errors


def test_it_may_not_create_for_a_customer_out_of_scope(login, people, rep_east, pipeline):
    south_customer = records.south_opportunity(people).customer
    client = login(rep_east)
    assert (
        client.get(reverse("sales:opportunity_create"), {"customer": south_customer.pk}).status_code
        == 404
    )
    assert _post_opportunity(client, south_customer).status_code == 404
    assert not Opportunity.objects.filter(title="新商机").exists()


def test_the_customer_page_offers_a_new_opportunity_and_lists_his(
    login, rep_east, east_customer, east_opp
):
    response = login(rep_east).get(reverse("customers:customer_detail", args=[east_customer.pk]))
    body = response.content.decode()
    assert f"{reverse('sales:opportunity_create')}?customer={east_customer.pk}" in body
    assert "东方电子扩产" in body


# --- The opportunity's page ---------------------------------------------------------------------


def test_the_page_shows_the_stage_path_and_history(login, rep_east, east_opp):
    response = login(rep_east).get(reverse("sales:opportunity_detail", args=[east_opp.pk]))
    assert response.status_code == 200
    path = response.context["path"]
    assert [step["stage"].name for step in path] == ["初步接洽", "需求确认", "方案报价", "商务谈判"]
    assert [step["state"] for step in path] == ["current", "ahead", "ahead", "ahead"]
    assert len(response.context["visits"]) == 1
    assert b'data-testid="audit-trail"' in response.content


def test_pages_of_an_opportunity_out_of_scope_answer_404(login, people, rep_east):
    south = records.south_opportunity(people)
    client = login(rep_east)
    for name in ("opportunity_detail", "opportunity_edit", "opportunity_delete"):
        assert client.get(reverse(f"sales:{name}", args=[south.pk])).status_code == 404
    for name in ("opportunity_move", "opportunity_win", "opportunity_lose"):
        assert client.post(reverse(f"sales:{name}", args=[south.pk])).status_code == 404


def test_a_move_missing_the_amount_is_refused_with_the_reason(login, rep_east, east_opp):
    client = login(rep_east)
    url = reverse("sales:opportunity_move", args=[east_opp.pk])
    target = records.stage("方案报价")
    refused = client.post(url, {"stage": target.pk, "version": east_opp.version})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "方案报价" in body
    assert 'data-field="amount"' in body
    east_opp.refresh_from_db()
    assert east_opp.stage.name == "初步接洽"

    Opportunity.objects.filter(pk=east_opp.pk).update(amount=Decimal("50000"))
    east_opp.refresh_from_db()
    moved = client.post(url, {"stage": target.pk, "version": east_opp.version})
    assert moved.status_code == 302
    east_opp.refresh_from_db()
    assert east_opp.stage == target
    visits = list(east_opp.stage_visits.order_by("entered_at", "pk"))
    assert [v.stage_name for v in visits] == ["初步接洽", "方案报价"]
    assert visits[0].left_at is not None


def test_a_move_from_a_stale_page_is_refused(login, rep_east, east_opp):
    response = login(rep_east).post(
        reverse("sales:opportunity_move", args=[east_opp.pk]),
        {"stage": records.stage("需求确认").pk, "version": east_opp.version - 1},
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()


def test_a_rep_wins_one_and_loses_another_with_a_reason(
    login, rep_east, east_customer, east_opp, price_reason
):
    client = login(rep_east)
    won = client.post(
        reverse("sales:opportunity_win", args=[east_opp.pk]),
        {"note": "签约", "version": east_opp.version},
    )
    assert won.status_code == 302
    east_opp.refresh_from_db()
    assert east_opp.status == "won"
    assert east_opp.close_note == "签约"

    other = records.opportunity(rep_east, east_customer, title="备件采购")
    url = reverse("sales:opportunity_lose", args=[other.pk])
    no_reason = client.post(url, {"note": "", "version": other.version})
    assert no_reason.status_code == 400
    assert no_reason.context["open_dialog"] == "lose"
    assert "reason" in no_reason.context["lose_form"].errors
    lost = client.post(
        url, {"reason": price_reason.pk, "note": "对手低价", "version": other.version}
    )
    assert lost.status_code == 302
    other.refresh_from_db()
    assert (other.status, other.lost_reason) == ("lost", price_reason)
    page = client.get(reverse("sales:opportunity_detail", args=[other.pk]))
    assert page.context["may_move"] is False
    assert page.context["may_reopen"] is False  # a rep does not reopen


def test_a_manager_reopens_a_lost_opportunity(
    login, manager_east, rep_east, east_opp, price_reason
):
    from tuoke.sales import services

    services.lose(east_opp, by=rep_east, reason=price_reason)
    rep_response = login(rep_east).post(
        reverse("sales:opportunity_reopen", args=[east_opp.pk]),
        {"stage": records.stage("需求确认").pk},
    )
    assert rep_response.status_code == 403
    client = login(manager_east)
    assert client.get(reverse("sales:opportunity_detail", args=[east_opp.pk])).context["may_reopen"]
    response = client.post(
        reverse("sales:opportunity_reopen", args=[east_opp.pk]),
        {"stage": records.stage("需求确认").pk},
    )
    assert response.status_code == 302
    east_opp.refresh_from_db()
    assert (east_opp.status, east_opp.stage.name) == ("open", "需求确认")


# --- Edit, delete, restore ----------------------------------------------------------------------


def _edit_data(opp, **fields):
    return {
        "title": opp.title,
        "currency": opp.currency,
        "version": opp.version,
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
        **fields,
    }


def test_a_rep_edits_an_opportunity_and_replaces_its_lines(login, rep_east, east_opp):
    client = login(rep_east)
    page = client.get(reverse("sales:opportunity_edit", args=[east_opp.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("sales:opportunity_edit", args=[east_opp.pk]),
        _edit_data(
            east_opp,
            title="东方电子扩产二期",
            expected_close_date="2026-06-30",
            **{
                "lines-TOTAL_FORMS": "1",
                "lines-0-name": "服务器",
                "lines-0-quantity": "2",
                "lines-0-unit_price": "30000",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    east_opp.refresh_from_db()
    assert east_opp.title == "东方电子扩产二期"
    assert east_opp.expected_close_date == date(2026, 6, 30)
    assert [line.name for line in east_opp.lines.all()] == ["服务器"]
    assert AuditEntry.objects.filter(object_id=str(east_opp.pk), kind="update").exists()


def test_an_edit_keeps_the_lines_posted_as_they_were(login, rep_east, east_customer):
    from tuoke.sales import services

    opp = services.create_opportunity(
        customer=east_customer,
        title="备件",
        by=rep_east,
        lines=[{"name": "滤芯", "quantity": Decimal("2"), "unit_price": Decimal("150")}],
    )
    client = login(rep_east)
    rows = client.get(reverse("sales:opportunity_edit", args=[opp.pk])).context["line_rows"]
    assert [(r["name"], r["quantity"], r["unit_price"]) for r in rows] == [
        ("滤芯", "2.00", "150.00")
    ]
    posted = {f"lines-0-{k}": v for k, v in rows[0].items() if k != "errors"}
    response = client.post(
        reverse("sales:opportunity_edit", args=[opp.pk]),
        _edit_data(
            opp,
            expected_close_date="2026-09-30",
            amount="300",
            **posted,
            **{"lines-TOTAL_FORMS": "1"},
        ),
    )
    assert response.status_code == 302
    assert [line.name for line in opp.lines.all()] == ["滤芯"]


def test_an_edit_from_a_stale_form_says_someone_else_changed_it(login, rep_east, east_opp):
    client = login(rep_east)
    stale = _edit_data(east_opp, title="我的改动")
    Opportunity.objects.filter(pk=east_opp.pk).update(version=east_opp.version + 1)
    response = client.post(reverse("sales:opportunity_edit", args=[east_opp.pk]), stale)
    assert response.status_code == 400
    assert "changed by someone else" in " ".join(response.context["form"].non_field_errors())
    east_opp.refresh_from_db()
    assert east_opp.title == "东方电子扩产"


def test_emptying_a_field_the_stage_requires_is_refused_on_it(login, rep_east, east_customer):
    opp = records.opportunity(
        rep_east, east_customer, title="报价中", stage_name="方案报价", amount="9000"
    )
    response = login(rep_east).post(
        reverse("sales:opportunity_edit", args=[opp.pk]), _edit_data(opp, amount="")
    )
    assert response.status_code == 400
    assert "amount" in response.context["form"].errors


def test_a_deleted_opportunity_goes_to_the_recycle_bin_and_comes_back(login, rep_east, east_opp):
    client = login(rep_east)
    assert client.get(reverse("sales:opportunity_delete", args=[east_opp.pk])).status_code == 200
    response = client.post(reverse("sales:opportunity_delete", args=[east_opp.pk]))
    assert response.status_code == 302
    assert client.get(reverse("sales:opportunity_detail", args=[east_opp.pk])).status_code == 404
    bin_page = client.get(reverse("core:recycle_bin"), {"type": "opportunity"})
    assert "东方电子扩产" in bin_page.content.decode()
    restored = client.post(reverse("core:restore", args=["opportunity", east_opp.pk]))
    assert restored.status_code == 302
    assert client.get(reverse("sales:opportunity_detail", args=[east_opp.pk])).status_code == 200
