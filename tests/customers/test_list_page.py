"""The customer list page: scope, filters, sorting, columns, saved views, bulk actions and
pagination without an exact count (tuoke.customers.list_views)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tuoke.core import custom_fields as cf
from tuoke.core import saved_views
from tuoke.core.audit import trail_of
from tuoke.core.models import SavedView
from tuoke.core.services import create_record
from tuoke.customers.models import Collaborator, Customer, Tag
from tuoke.customers.services import create_customer

LIST = reverse("customers:customer_list")
HTMX = {"HX-Request": "true", "HX-Target": "customer-results"}


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def manager(people):
    return people["manager_east"]


def _customer(owner, short_name, **facts):
    return create_customer(by=owner, short_name=short_name, **facts)


def _names(response) -> list[str]:
    return [customer.display_name for customer in response.context["page_obj"].object_list]


def _get(client, **params):
    return client.get(LIST, {"view": "all", **params})


# --- Scope, rows and queries ---------------------------------------------------------------------


def test_it_shows_a_rep_only_the_customers_in_his_scope(rep, people, login):
    _customer(rep, "腾达精密")
    _customer(people["rep_east2"], "华信电子")
    _customer(people["rep_south1"], "南方客户")
    response = _get(login(rep))
    assert response.status_code == 200
    assert _names(response) == ["腾达精密"]
    assert "南方客户" not in response.content.decode()


def test_a_manager_sees_his_whole_team(manager, people, login):
    _customer(people["rep_east1"], "腾达精密")
    _customer(people["rep_east2"], "华信电子")
    _customer(people["rep_south1"], "南方客户")
    assert sorted(_names(_get(login(manager)))) == ["华信电子", "腾达精密"]


def test_a_collaborator_sees_a_shared_customer(rep, people, login):
    theirs = _customer(people["rep_south1"], "南方客户")
    Collaborator.objects.create(customer=theirs, user=rep)
    assert _names(_get(login(rep))) == ["南方客户"]


def test_the_query_count_does_not_grow_with_the_rows(
    rep, login, django_assert_max_num_queries, settings
):
    tags = [create_record(Tag, by=rep, name=f"标签{i}") for i in range(3)]
    cf.create_custom_field(
        target="customer", key="erp_number", label="ERP", kind="text", by=None, show_in_list=True
    )
    client = login(rep)
    every_column = ",".join(
        ["status", "owner", "unit", "tags", "region", "industry", "follow_up", "custom.erp_number"]
    )

    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = _get(client, cols=every_column, sort="name")
        assert response.status_code == 200
        return len(captured)

    for i in range(3):
        customer = _customer(rep, f"客户{i:02d}", custom={"erp_number": f"E{i}"})
        customer.tags.set(tags)
    count_queries()  # the filters' people, units and tags are cached from here on
    few = count_queries()
    for i in range(3, 30):
        customer = _customer(rep, f"客户{i:02d}", custom={"erp_number": f"E{i}"})
        customer.tags.set(tags)
    assert count_queries() == few
    with django_assert_max_num_queries(20):
        _get(client, cols=every_column)


# --- Filters -------------------------------------------------------------------------------------


def test_it_finds_customers_by_name_pinyin_initials_and_credit_code(rep, login):
    _customer(rep, "腾达精密", legal_name="深圳市腾达精密科技有限公司")
    _customer(rep, "华信电子")
    client = login(rep)
    assert _names(_get(client, q="tdjm")) == ["腾达精密"]
    assert _names(_get(client, q="华信")) == ["华信电子"]
    assert _names(_get(client, q="深圳腾达精密")) == ["腾达精密"]


def test_it_filters_by_status_owner_and_unit_subtree(manager, people, login):
    mine = _customer(people["rep_east1"], "腾达精密")
    theirs = _customer(people["rep_east2"], "华信电子")
    client = login(people["director"])
    _customer(people["rep_south1"], "南方客户")
    Customer.objects.filter(pk=mine.pk).update(lifecycle_status="intent")
    assert _names(_get(client, status="intent")) == ["腾达精密"]
    assert _names(_get(client, owner=theirs.owner_id)) == ["华信电子"]
    east = people["rep_east1"].unit
    assert sorted(_names(_get(client, unit=east.pk))) == ["华信电子", "腾达精密"]
    assert sorted(_names(_get(client, unit=east.parent_id))) == ["华信电子", "南方客户", "腾达精密"]


def test_it_filters_by_any_of_several_tags_without_repeating_rows(rep, login):
    key, fair = (create_record(Tag, by=rep, name=n) for n in ("重点客户", "展会"))
    both = _customer(rep, "腾达精密")
    both.tags.set([key, fair])
    _customer(rep, "华信电子").tags.set([fair])
    _customer(rep, "金龙机械")
    names = _names(_get(login(rep), tag=[key.pk, fair.pk]))
    assert sorted(names) == ["华信电子", "腾达精密"]


def test_it_filters_by_region_industry_nature_and_size(rep, login):
    _customer(rep, "腾达精密", province="广东", city="深圳", industry="精密制造", nature="private")
    _customer(rep, "华信电子", province="上海", city="上海", industry="电子", size="20-99")
    client = login(rep)
    assert _names(_get(client, province="广东")) == ["腾达精密"]
    assert _names(_get(client, city="上海")) == ["华信电子"]
    assert _names(_get(client, industry="制造")) == ["腾达精密"]
    assert _names(_get(client, nature="private")) == ["腾达精密"]
    assert _names(_get(client, size="20-99")) == ["华信电子"]


def test_it_filters_by_created_and_last_follow_up_dates(rep, login):
    old = _customer(rep, "腾达精密")
    new = _customer(rep, "华信电子")
    now = timezone.now()
    Customer.objects.filter(pk=old.pk).update(
        created_at=now - timedelta(days=40), last_follow_up_at=now - timedelta(days=30)
    )
    Customer.objects.filter(pk=new.pk).update(last_follow_up_at=now)
    client = login(rep)
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert _names(_get(client, created_from=since)) == ["华信电子"]
    assert _names(_get(client, created_to=since)) == ["腾达精密"]
    assert _names(_get(client, follow_up_from=since)) == ["华信电子"]
    assert _names(_get(client, follow_up_to=since)) == ["腾达精密"]


def test_it_filters_by_custom_fields(rep, login):
    cf.create_custom_field(
        target="customer",
        key="segment",
        label="细分",
        kind="choice",
        choices=["制造", "零售"],
        by=None,
    )
    cf.create_custom_field(target="customer", key="budget", label="预算", kind="money", by=None)
    _customer(rep, "腾达精密", custom={"segment": "制造", "budget": "500000"})
    _customer(rep, "华信电子", custom={"segment": "零售", "budget": "20000"})
    client = login(rep)
    response = _get(client, cf_segment="制造")
    assert _names(response) == ["腾达精密"]
    assert 'data-key="segment"' in response.content.decode()
    assert _names(_get(client, cf_budget_min="100000")) == ["腾达精密"]


def test_a_bad_filter_is_named_and_left_out_while_the_others_apply(rep, login):
    _customer(rep, "腾达精密", province="广东")
    _customer(rep, "华信电子", province="上海")
    response = _get(login(rep), province="广东", created_from="2026-13-45")
    assert response.status_code == 400
    assert _names(response) == ["腾达精密"]
    assert 'data-field-error="created_from"' in response.content.decode()


def test_an_end_before_the_start_is_refused_on_the_end(rep, login):
    response = _get(login(rep), created_from="2026-05-01", created_to="2026-04-01")
    assert response.status_code == 400
    assert "created_to" in response.context["form"].errors


# --- Sorting -------------------------------------------------------------------------------------


def test_it_sorts_names_in_pinyin_order_both_ways(rep, login):
    for name in ("腾讯科技", "阿里巴巴", "百度在线"):
        _customer(rep, name)
    client = login(rep)
    assert _names(_get(client, sort="name")) == ["阿里巴巴", "百度在线", "腾讯科技"]
    assert _names(_get(client, sort="-name")) == ["腾讯科技", "百度在线", "阿里巴巴"]


def test_it_sorts_by_last_follow_up_with_never_as_the_oldest(rep, login):
    never = _customer(rep, "阿里巴巴")
    recent = _customer(rep, "百度在线")
    older = _customer(rep, "腾讯科技")
    now = timezone.now()
    Customer.objects.filter(pk=recent.pk).update(last_follow_up_at=now)
    Customer.objects.filter(pk=older.pk).update(last_follow_up_at=now - timedelta(days=9))
    client = login(rep)
    ascending = _names(_get(client, sort="follow_up"))
    assert ascending == [never.short_name, older.short_name, recent.short_name]
    descending = _names(_get(client, sort="-follow_up"))
    assert descending == [recent.short_name, older.short_name, never.short_name]


def test_an_unknown_sort_falls_back_to_the_most_recently_updated(rep, login):
    first = _customer(rep, "阿里巴巴")
    _customer(rep, "百度在线")
    Customer.objects.filter(pk=first.pk).update(updated_at=timezone.now() + timedelta(hours=1))
    response = _get(login(rep), sort="password")
    assert response.context["sort"] == "-updated"
    assert _names(response)[0] == "阿里巴巴"


# --- Columns -------------------------------------------------------------------------------------


def _headers(response) -> list[str]:
    return [column.key for column in response.context["columns"]]


def test_it_shows_the_default_columns_and_custom_fields_marked_for_lists(rep, login):
    cf.create_custom_field(
        target="customer", key="erp_number", label="ERP", kind="text", by=None, show_in_list=True
    )
    cf.create_custom_field(target="customer", key="note2", label="备注二", kind="text", by=None)
    _customer(rep, "腾达精密", custom={"erp_number": "E-100"})
    response = _get(login(rep))
    keys = _headers(response)
    assert keys[0] == "name" and "status" in keys and "custom.erp_number" in keys
    assert "custom.note2" not in keys and "industry" not in keys
    assert "E-100" in response.content.decode()


def test_cols_in_the_url_choose_and_order_the_columns(rep, login):
    _customer(rep, "腾达精密", industry="精密制造")
    response = _get(login(rep), cols="industry,owner,nope,name")
    assert _headers(response) == ["name", "industry", "owner"]
    assert "精密制造" in response.content.decode()


def test_the_chosen_columns_are_remembered_for_the_user(rep, people, login):
    client = login(rep)
    response = client.post(
        reverse("customers:list_columns"),
        {"columns": ["tags", "industry", "password"], "query": "status=intent&page=3&cols=owner"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?cols=tags%2Cindustry&status=intent"
    assert saved_views.chosen_columns(rep, "customers") == ["tags", "industry"]
    assert _headers(_get(client)) == ["name", "tags", "industry"]
    assert _headers(_get(login(people["rep_east2"])))[:3] == ["name", "status", "owner"]


def test_choosing_no_column_keeps_the_columns(rep, login):
    client = login(rep)
    response = client.post(reverse("customers:list_columns"), {"query": "", "columns": []})
    assert response.status_code == 302
    assert saved_views.chosen_columns(rep, "customers") == []
    assert client.get(reverse("customers:list_columns")).status_code == 405


# --- Saved views ---------------------------------------------------------------------------------


def test_it_saves_the_current_filters_sort_and_columns_as_a_view(rep, login):
    _customer(rep, "腾达精密", province="广东")
    client = login(rep)
    listed = _get(client, province="广东", sort="name", cols="owner")
    state = listed.context["state_query"]
    assert state == "cols=owner&province=%E5%B9%BF%E4%B8%9C&sort=name"
    response = client.post(
        reverse("customers:saved_view_create"), {"name": "广东客户", "query": state}
    )
    view = SavedView.objects.get(name="广东客户")
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?{state}&view={view.pk}"
    opened = client.get(response["Location"])
    assert opened.context["current_view"] == view and not opened.context["modified"]
    assert _headers(opened) == ["name", "owner"]
    changed = client.get(f"{LIST}?{state}&view={view.pk}&status=intent")
    assert changed.context["modified"]


def test_a_view_needs_a_unique_name(rep, login):
    client = login(rep)
    client.post(reverse("customers:saved_view_create"), {"name": "本周", "query": ""})
    response = client.post(reverse("customers:saved_view_create"), {"name": "本周", "query": ""})
    assert response.status_code == 400
    assert 'data-field-error="name"' in response.content.decode()
    response = client.post(reverse("customers:saved_view_create"), {"name": "", "query": ""})
    assert response.status_code == 400


def test_the_list_opens_with_the_default_view_unless_asked_for_all(rep, login):
    client = login(rep)
    view = saved_views.save_view(
        by=rep, list_key="customers", name="意向", query="status=intent", make_default=True
    )
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?status=intent&view={view.pk}"
    assert client.get(LIST, {"view": "all"}).context["current_view"] is None


def test_a_teammate_opens_a_shared_view_but_cannot_change_it(rep, people, login):
    view = saved_views.save_view(
        by=rep, list_key="customers", name="团队视图", query="status=intent", shared=True
    )
    teammate = login(people["rep_east2"])
    assert view in teammate.get(LIST, {"view": "all"}).context["views"]
    assert teammate.get(reverse("customers:saved_view_edit", args=[view.pk])).status_code == 403
    assert teammate.post(reverse("customers:saved_view_delete", args=[view.pk])).status_code == 403
    outsider = login(people["rep_south1"])
    assert view not in outsider.get(LIST, {"view": "all"}).context["views"]
    assert outsider.get(reverse("customers:saved_view_edit", args=[view.pk])).status_code == 404
    # Another user's view id in the URL is ignored: the filters in the URL still apply.
    assert outsider.get(LIST, {"view": view.pk}).context["current_view"] is None


def test_the_owner_renames_shares_and_makes_a_view_the_default(rep, login):
    view = saved_views.save_view(by=rep, list_key="customers", name="意向", query="")
    client = login(rep)
    url = reverse("customers:saved_view_edit", args=[view.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"version": 1, "name": "意向客户", "shared": "on", "make_default": "on"}
    )
    assert response.status_code == 302
    view.refresh_from_db()
    assert (view.name, view.shared) == ("意向客户", True)
    assert saved_views.default_view(rep, "customers") == view
    stale = client.post(url, {"version": 1, "name": "旧名字"})
    assert stale.status_code == 400
    assert "someone else" in stale.content.decode()


def test_it_deletes_a_view_only_after_confirmation(rep, login):
    view = saved_views.save_view(by=rep, list_key="customers", name="意向", query="")
    client = login(rep)
    url = reverse("customers:saved_view_delete", args=[view.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200 and 'data-testid="confirm"' in confirm.content.decode()
    assert SavedView.objects.filter(pk=view.pk).exists()
    assert client.post(url).status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()
    assert trail_of(view).first().kind == "delete"


def test_the_views_page_lists_own_and_team_views_and_sets_the_default(rep, people, login):
    mine = saved_views.save_view(by=rep, list_key="customers", name="我的", query="")
    team = saved_views.save_view(
        by=people["rep_east2"], list_key="customers", name="团队", query="", shared=True
    )
    client = login(rep)
    page = client.get(reverse("customers:saved_view_list"))
    assert [row["view"] for row in page.context["rows"]] == [team, mine]
    assert [row["mine"] for row in page.context["rows"]] == [False, True]
    client.post(reverse("customers:saved_view_default"), {"view": team.pk})
    assert saved_views.default_view(rep, "customers") == team
    client.post(reverse("customers:saved_view_default"), {"view": ""})
    assert saved_views.default_view(rep, "customers") is None
    outsiders = saved_views.save_view(
        by=people["rep_south1"], list_key="customers", name="华南", query=""
    )
    response = client.post(reverse("customers:saved_view_default"), {"view": outsiders.pk})
    assert response.status_code == 404


def test_the_views_page_says_what_to_do_when_there_is_none(rep, login):
    page = login(rep).get(reverse("customers:saved_view_list"))
    assert 'data-testid="empty-state"' in page.content.decode()


# --- htmx, empty states and pagination -----------------------------------------------------------


def test_htmx_gets_only_the_results(rep, login):
    _customer(rep, "腾达精密")
    response = login(rep).get(LIST, {"view": "all", "q": "腾达"}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="customer-results"' in body and "腾达精密" in body


def test_it_says_what_to_do_when_there_are_no_customers(rep, login):
    client = login(rep)
    empty = _get(client)
    assert "No customers yet" in empty.content.decode()
    _customer(rep, "腾达精密")
    nothing = _get(client, q="没有这个")
    assert "No customers match" in nothing.content.decode()


def test_it_pages_without_counting_past_the_cap(rep, login, settings):
    settings.LIST_PAGE_SIZE = 2
    settings.LIST_COUNT_CAP = 3
    for i in range(5):
        _customer(rep, f"客户{i}")
    client = login(rep)
    response = _get(client)
    page = response.context["page_obj"]
    assert page.paginator.capped and page.paginator.count == 4
    body = response.content.decode()
    assert "More than 3 customers" in body and "1–2 of 3+" in body
    assert _names(_get(client, page=2, sort="name")) == ["客户2", "客户3"]
    settings.LIST_COUNT_CAP = 10
    assert "5 customers" in _get(client).content.decode()


def test_a_user_whose_roles_grant_no_customers_is_refused(people, login):
    from tuoke.org.services import invite_user

    guest = invite_user(username="guest", display_name="访客", password="x-Y-z-2026!", by=None)
    assert _get(login(guest)).status_code == 403


# --- Bulk actions --------------------------------------------------------------------------------

BULK = reverse("customers:customer_bulk")


@pytest.fixture
def key_account(rep):
    return create_record(Tag, by=rep, name="重点客户")


def test_a_bulk_action_is_confirmed_before_it_acts(rep, login, key_account):
    tengda, huaxin = _customer(rep, "腾达精密"), _customer(rep, "华信电子")
    client = login(rep)
    data = {
        "ids": [tengda.pk, huaxin.pk],
        "action": "add_tag",
        "tag": key_account.pk,
        "back": "status=potential&view=all",
    }
    confirm = client.post(BULK, data)
    assert confirm.status_code == 200
    assert [c.display_name for c in confirm.context["changeable"]] == ["华信电子", "腾达精密"]
    assert not Customer.objects.filter(tags=key_account).exists()
    done = client.post(BULK, {**data, "confirm": "1"})
    assert done.status_code == 302
    assert done["Location"] == f"{LIST}?status=potential&view=all"
    assert set(Customer.objects.filter(tags=key_account)) == {tengda, huaxin}
    assert trail_of(tengda).first().changes[0]["field"] == "tags"
    shown = client.get(done["Location"])
    assert "added to 2 customers" in shown.content.decode()


def test_it_removes_a_tag_from_the_selected_customers(rep, login, key_account):
    tengda = _customer(rep, "腾达精密")
    tengda.tags.set([key_account])
    response = login(rep).post(
        BULK, {"ids": [tengda.pk], "action": "remove_tag", "tag": key_account.pk, "confirm": "1"}
    )
    assert response.status_code == 302
    assert not tengda.tags.exists()


def test_a_manager_transfers_customers_with_a_reason(manager, people, login):
    rep, rep2 = people["rep_east1"], people["rep_east2"]
    tengda, huaxin = _customer(rep, "腾达精密"), _customer(rep, "华信电子")
    client = login(manager)
    data = {"ids": [tengda.pk, huaxin.pk], "action": "transfer", "to_user": rep2.pk}
    missing = client.post(BULK, {**data, "confirm": "1"})
    assert missing.status_code == 400
    assert 'data-field-error="reason"' in missing.content.decode()
    done = client.post(BULK, {**data, "reason": "张伟调岗", "confirm": "1"})
    assert done.status_code == 302
    assert set(Customer.objects.filter(owner=rep2)) == {tengda, huaxin}
    assert "张伟调岗" in trail_of(tengda).first().note


def test_a_rep_may_not_transfer(rep, people, login):
    tengda = _customer(rep, "腾达精密")
    client = login(rep)
    listed = _get(client)
    assert 'value="transfer"' not in listed.content.decode()
    response = client.post(
        BULK,
        {
            "ids": [tengda.pk],
            "action": "transfer",
            "to_user": people["rep_east2"].pk,
            "reason": "想换人",
            "confirm": "1",
        },
    )
    assert response.status_code == 400
    assert 'data-field-error="action"' in response.content.decode()
    tengda.refresh_from_db()
    assert tengda.owner == rep


def test_customers_seen_but_not_changeable_are_left_out(rep, people, login, key_account):
    mine = _customer(rep, "腾达精密")
    shared = _customer(people["rep_south1"], "南方客户")
    Collaborator.objects.create(customer=shared, user=rep, access="read")
    client = login(rep)
    data = {"ids": [mine.pk, shared.pk], "action": "add_tag", "tag": key_account.pk}
    confirm = client.post(BULK, data)
    assert confirm.context["skipped"] == [shared]
    client.post(BULK, {**data, "confirm": "1"})
    assert list(Customer.objects.filter(tags=key_account)) == [mine]
    only_shared = client.post(BULK, {**data, "ids": [shared.pk], "confirm": "1"})
    assert only_shared.status_code == 400
    assert not shared.tags.exists()


def test_a_customer_out_of_sight_makes_the_bulk_action_404(rep, people, login, key_account):
    mine = _customer(rep, "腾达精密")
    theirs = _customer(people["rep_south1"], "南方客户")
    response = login(rep).post(
        BULK, {"ids": [mine.pk, theirs.pk], "action": "add_tag", "tag": key_account.pk}
    )
    assert response.status_code == 404
    assert not Customer.objects.filter(tags=key_account).exists()


def test_a_bulk_action_names_what_is_missing(rep, login):
    client = login(rep)
    nothing = client.post(BULK, {"action": "add_tag"})
    assert nothing.status_code == 400
    assert 'data-field-error="ids"' in nothing.content.decode()
    tengda = _customer(rep, "腾达精密")
    no_tag = client.post(BULK, {"ids": [tengda.pk], "action": "add_tag", "confirm": "1"})
    assert no_tag.status_code == 400
    assert 'data-field-error="tag"' in no_tag.content.decode()
    junk = client.post(BULK, {"ids": ["x"], "action": "add_tag"})
    assert junk.status_code == 400
    assert client.get(BULK).status_code == 302
