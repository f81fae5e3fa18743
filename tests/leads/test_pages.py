"""Lead, channel and assignment-rule pages: lists, forms with their messages, bulk actions with
confirmation, conversion, and the customer page's origin card."""

from datetime import date
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from tests.customers.test_services import CODE
from tuoke.customers import services as customer_services
from tuoke.customers.models import Customer
from tuoke.leads import services
from tuoke.leads.models import AssignmentRule, ChannelCost, Lead, LeadStatus

from .conftest import make_lead

LIST = reverse("leads:lead_list")


@pytest.fixture
def leads(people, marketing, website):
    return {
        "mine": make_lead(
            marketing,
            owner=people["rep_east1"],
            channel=website,
            short_name="腾达精密",
            contact_name="王强",
            mobile="13800138000",
            needs="20 台五轴加工中心",
        ),
        "south": make_lead(
            marketing, owner=people["rep_south1"], company_name="广州白云机电有限公司"
        ),
    }


# --- List ---------------------------------------------------------------------------------------


def test_the_list_shows_the_scope_in_constant_queries(
    people, leads, marketing, login, django_assert_max_num_queries
):
    for i in range(30):
        make_lead(marketing, owner=people["rep_east1"], short_name=f"客户{i:02d}")
    client = login(people["rep_east1"])
    with django_assert_max_num_queries(12):
        page = client.get(LIST).content.decode()
    assert "腾达精密" in page and "白云机电" not in page
    assert page.count('data-testid="lead-row"') == 25
    assert 'data-testid="pagination"' in page
    assert 'data-testid="bulk-bar"' in page  # a rep may clean his own leads
    client = login(marketing)
    with django_assert_max_num_queries(12):
        everything = client.get(LIST, {"page": 2}).content.decode()
    assert everything.count('data-testid="lead-row"') == 7


def test_the_list_filters_sorts_and_says_when_nothing_matches(people, leads, marketing, login):
    client = login(marketing)
    assert "白云机电" not in client.get(LIST, {"q": "tdjm"}).content.decode()
    services.clean_lead(leads["south"], kind="junk", reason="广告", by=marketing)
    junk = client.get(LIST, {"cleaning_kind": "junk"}).content.decode()
    assert "白云机电" in junk and "腾达精密" not in junk
    open_only = client.get(LIST, {"status": "open"}).content.decode()
    assert "腾达精密" in open_only and "白云机电" not in open_only
    page = client.get(LIST, {"sort": "-company"}).content.decode()
    assert page.index("腾达精密") < page.index("白云机电")
    empty = client.get(LIST, {"q": "不存在的公司"}).content.decode()
    assert 'data-testid="empty-state"' in empty and "No leads match" in empty


def test_the_list_searches_like_the_global_search_within_the_scope(people, leads, login):
    manager = login(people["manager_south"])
    for q in ("云机电", "广州白云", "byjd"):
        page = manager.get(LIST, {"q": q}).content.decode()
        assert page.count('data-testid="lead-row"') == 1 and "白云机电" in page, q
    # Two characters in the middle of a name match too much to look for.
    assert "No leads match" in manager.get(LIST, {"q": "云机"}).content.decode()
    rep = login(people["rep_east1"])
    for q in ("达精密", "138 0013", "王强"):
        page = rep.get(LIST, {"q": q}).content.decode()
        assert page.count('data-testid="lead-row"') == 1 and "腾达精密" in page, q
    assert "No leads match" in rep.get(LIST, {"q": "云机电"}).content.decode()  # not his


def test_a_new_company_sees_an_empty_state_with_the_next_step(people, login):
    page = login(people["marketing1"]).get(LIST).content.decode()
    assert "No leads yet" in page and reverse("leads:lead_create") in page
    assert login(people["finance1"]).get(LIST).status_code == 403


# --- Create and edit ----------------------------------------------------------------------------


def test_it_warns_of_duplicates_before_saving_and_flags_the_lead(people, leads, login, website):
    client = login(people["rep_east2"])
    data = {"short_name": "另一家", "mobile": "138 0013 8000", "channel": website.pk}
    warned = client.post(reverse("leads:lead_create"), data)
    page = warned.content.decode()
    assert warned.status_code == 200 and 'data-testid="duplicate-warning"' in page
    assert "腾达精密" in page and "张伟" in page  # name and owner only: not his lead
    assert reverse("leads:lead_detail", args=[leads["mine"].pk]) not in page
    assert not Lead.objects.filter(short_name="另一家").exists()
    saved = client.post(reverse("leads:lead_create"), {**data, "confirm_duplicates": "on"})
    lead = Lead.objects.get(short_name="另一家")
    assert saved.url == reverse("leads:lead_detail", args=[lead.pk])
    assert lead.duplicate_of == leads["mine"] and lead.owner == people["rep_east2"]
    detail = client.get(saved.url).content.decode()
    assert 'data-testid="duplicate-flag"' in detail and "clean-as-duplicate" in detail


def test_the_form_shows_each_field_error(people, login):
    response = login(people["rep_east1"]).post(
        reverse("leads:lead_create"), {"short_name": "甲", "mobile": "12", "credit_code": "123"}
    )
    page = response.content.decode()
    assert 'data-field-error="mobile"' in page and 'data-field-error="credit_code"' in page
    empty = login(people["rep_east1"]).post(reverse("leads:lead_create"), {"needs": "x"})
    assert 'data-field-error="company_name"' in empty.content.decode()


def test_marketing_chooses_the_owner_when_entering_a_lead(people, marketing, login):
    client = login(marketing)
    form = client.get(reverse("leads:lead_create")).content.decode()
    assert 'name="owner"' in form and "黄敏" in form
    client.post(
        reverse("leads:lead_create"),
        {"company_name": "杭州西湖电子有限公司", "owner": people["rep_south1"].pk},
    )
    assert Lead.objects.get(company_name="杭州西湖电子有限公司").owner == people["rep_south1"]
    rep_form = login(people["rep_east1"]).get(reverse("leads:lead_create")).content.decode()
    assert 'name="owner"' not in rep_form


def test_it_edits_with_a_version_check(people, leads, login):
    client = login(people["rep_east1"])
    url = reverse("leads:lead_edit", args=[leads["mine"].pk])
    form = client.get(url).content.decode()
    assert "腾达精密" in form and 'name="version"' in form
    data = {"short_name": "腾达精密", "status": "working", "needs": "30 台", "version": 1}
    assert client.post(url, data).status_code == 302
    lead = Lead.objects.get(pk=leads["mine"].pk)
    assert (lead.needs, lead.status) == ("30 台", LeadStatus.WORKING)
    stale = client.post(url, {**data, "needs": "40 台"}).content.decode()
    assert "changed by someone else" in stale


# --- One lead -----------------------------------------------------------------------------------


def test_the_lead_page_shows_facts_actions_and_history(people, leads, login):
    page = (
        login(people["rep_east1"])
        .get(reverse("leads:lead_detail", args=[leads["mine"].pk]))
        .content.decode()
    )
    for part in (
        "腾达精密",
        "138 0013 8000",
        "20 台五轴加工中心",
        "官网表单",
        'data-testid="audit-trail"',
    ):
        assert part in page
    for action in ("lead-convert", "lead-edit", "lead-clean", "lead-delete"):
        assert f'data-testid="{action}"' in page
    assert 'data-testid="lead-assign"' not in page  # reps do not hand leads out


def test_it_cleans_with_a_reason_and_brings_back(people, leads, login):
    client = login(people["rep_east1"])
    lead = leads["mine"]
    url = reverse("leads:lead_clean", args=[lead.pk])
    missing = client.post(url, {"kind": "junk", "reason": "", "version": lead.version})
    assert 'data-field-error="reason"' in missing.content.decode()
    client.post(url, {"kind": "invalid", "reason": "空号", "version": lead.version})
    lead.refresh_from_db()
    assert (lead.status, lead.cleaning_kind, lead.cleaning_reason) == ("cleaned", "invalid", "空号")
    back = reverse("leads:lead_unclean", args=[lead.pk])
    assert 'data-testid="confirm"' in client.get(back).content.decode()
    client.post(back)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_a_manager_assigns_one_lead(people, leads, marketing, login):
    lead = make_lead(marketing, owner=people["manager_east"], short_name="经理的线索")
    client = login(people["manager_east"])
    url = reverse("leads:lead_assign", args=[lead.pk])
    form = client.get(url).content.decode()
    assert "张伟" in form and "黄敏" not in form
    assert client.post(url, {"to": people["rep_east1"].pk}).status_code == 302
    assert Lead.objects.get(pk=lead.pk).owner == people["rep_east1"]
    assert login(people["rep_east1"]).get(url).status_code == 403


def test_it_deletes_after_confirmation(people, leads, login):
    client = login(people["rep_east1"])
    url = reverse("leads:lead_delete", args=[leads["mine"].pk])
    assert 'data-testid="confirm"' in client.get(url).content.decode()
    assert Lead.objects.filter(pk=leads["mine"].pk).exists()
    client.post(url)
    assert not Lead.objects.filter(pk=leads["mine"].pk).exists()


# --- Bulk actions -------------------------------------------------------------------------------


def test_bulk_assign_asks_for_confirmation_first(people, marketing, login):
    leads = [make_lead(marketing, short_name=f"展会{i}") for i in range(3)]
    client = login(marketing)
    data = {"action": "assign", "to": people["rep_east1"].pk, "lead": [lead.pk for lead in leads]}
    confirm = client.post(reverse("leads:lead_bulk"), data)
    page = confirm.content.decode()
    assert confirm.status_code == 200 and 'data-testid="confirm"' in page and "展会2" in page
    assert Lead.objects.filter(owner=people["rep_east1"]).count() == 0
    ids = ",".join(str(lead.pk) for lead in leads)
    done = client.post(
        reverse("leads:lead_bulk"),
        {"action": "assign", "to": people["rep_east1"].pk, "ids": ids, "confirmed": "1"},
    )
    assert done.status_code == 302
    assert Lead.objects.filter(owner=people["rep_east1"]).count() == 3


def test_bulk_clean_needs_a_kind_and_reason_and_spares_converted_leads(people, marketing, login):
    rep = people["rep_east1"]
    leads = [make_lead(marketing, owner=rep, short_name=f"客户{i}") for i in range(2)]
    client = login(marketing)
    ids = [lead.pk for lead in leads]
    missing = client.post(reverse("leads:lead_bulk"), {"action": "clean", "lead": ids})
    assert missing.status_code == 400 and 'data-field-error="reason"' in missing.content.decode()
    services.convert_lead(leads[1], by=rep)
    refused = client.post(
        reverse("leads:lead_bulk"),
        {
            "action": "clean",
            "kind": "junk",
            "reason": "广告",
            "ids": ",".join(map(str, ids)),
            "confirmed": "1",
        },
    )
    assert refused.status_code == 400 and "converted" in refused.content.decode()
    assert not Lead.objects.filter(status=LeadStatus.CLEANED).exists()


def test_bulk_actions_answer_404_for_leads_out_of_sight(people, leads, login):
    response = login(people["rep_east1"]).post(
        reverse("leads:lead_bulk"),
        {"action": "clean", "kind": "junk", "reason": "x", "lead": [leads["south"].pk]},
    )
    assert response.status_code == 404


# --- Conversion ---------------------------------------------------------------------------------


def test_the_convert_page_is_prefilled_and_lands_on_the_customer(people, leads, login):
    client = login(people["rep_east1"])
    url = reverse("leads:lead_convert", args=[leads["mine"].pk])
    form = client.get(url).content.decode()
    assert 'value="腾达精密"' in form and 'value="王强"' in form
    response = client.post(
        url,
        {
            "target": "new",
            "legal_name": "深圳市腾达精密科技有限公司",
            "short_name": "腾达精密",
            "credit_code": CODE,
            "contact_name": "王强",
            "contact_mobile": "13800138000",
        },
    )
    customer = Customer.objects.get(short_name="腾达精密")
    assert response.status_code == 302
    assert response.url == reverse("customers:customer_detail", args=[customer.pk])
    assert customer.contacts.get().name == "王强"
    assert Lead.objects.get(pk=leads["mine"].pk).converted_customer == customer


def test_the_convert_page_shows_the_duplicate_refusal_on_the_field(people, leads, login):
    customer_services.create_customer(
        by=people["rep_south1"], legal_name="深圳市腾达精密科技有限公司"
    )
    client = login(people["rep_east1"])
    url = reverse("leads:lead_convert", args=[leads["mine"].pk])
    page = client.get(url).content.decode()
    assert 'data-testid="duplicate-candidate"' in page and "黄敏" in page
    refused = client.post(
        url, {"target": "new", "legal_name": "深圳腾达精密科技股份有限公司"}
    ).content.decode()
    assert 'data-field-error="legal_name"' in refused
    assert Lead.objects.get(pk=leads["mine"].pk).status == LeadStatus.NEW


def test_it_attaches_to_an_existing_customer_found_by_search(people, leads, login):
    rep = people["rep_east1"]
    customer = customer_services.create_customer(by=rep, short_name="东方电气")
    client = login(rep)
    url = reverse("leads:lead_convert", args=[leads["mine"].pk])
    found = client.get(url, {"find": "东方"}).content.decode()
    assert f'value="{customer.pk}"' in found
    # The customer list's search: by pinyin initials too.
    by_initials = client.get(url, {"find": "dfdq"}).content.decode()
    assert f'value="{customer.pk}"' in by_initials
    response = client.post(url, {"target": str(customer.pk), "contact_name": "王强"})
    assert response.status_code == 302
    assert Lead.objects.get(pk=leads["mine"].pk).converted_customer == customer
    # Someone else's customer is no choice, even when its id is sent.
    south = customer_services.create_customer(by=people["rep_south1"], short_name="南方电气")
    other = make_lead(people["marketing1"], owner=rep, short_name="另一条")
    page = client.post(
        reverse("leads:lead_convert", args=[other.pk]), {"target": str(south.pk)}
    ).content.decode()
    assert 'data-field-error="target"' in page


def test_the_customer_page_shows_where_the_customer_came_from(people, leads, login):
    rep = people["rep_east1"]
    customer = services.convert_lead(leads["mine"], by=rep).customer
    request = RequestFactory().get("/")
    request.user = rep
    card = render_to_string(
        "leads/_customer_origin.html", {"customer": customer, "request": request}
    )
    assert "官网表单" in card and reverse("leads:lead_detail", args=[leads["mine"].pk]) in card
    assert 'data-testid="origin-trail"' in card
    request.user = people["rep_east2"]  # sees neither the customer nor the lead
    hidden = render_to_string(
        "leads/_customer_origin.html", {"customer": customer, "request": request}
    )
    assert "官网表单" in hidden and 'data-testid="origin-link"' not in hidden


# --- Channels -----------------------------------------------------------------------------------


def test_marketing_manages_channels_and_their_costs(people, marketing, website, login):
    client = login(marketing)
    created = client.post(
        reverse("leads:channel_create"),
        {"name": "2026 上海工博会", "kind": "event", "active": "on"},
    )
    assert created.status_code == 302
    duplicate = client.post(
        reverse("leads:channel_create"), {"name": "官网表单", "kind": "website"}
    )
    assert 'data-field-error="name"' in duplicate.content.decode()
    cost_url = reverse("leads:cost_create", args=[website.pk])
    client.post(
        cost_url,
        {"period_start": "2026-10-01", "period_end": "2026-10-31", "amount": "3100"},
    )
    overlap = client.post(
        cost_url, {"period_start": "2026-10-15", "period_end": "2026-11-14", "amount": "1"}
    )
    assert 'data-field-error="period_start"' in overlap.content.decode()
    detail = client.get(
        reverse("leads:channel_detail", args=[website.pk]),
        {"start": "2026-10-01", "end": "2026-10-31"},
    ).content.decode()
    assert "¥3,100.00" in detail and 'data-testid="cost-row"' in detail
    cost = ChannelCost.objects.get()
    edit = reverse("leads:cost_edit", args=[cost.pk])
    client.post(
        edit,
        {"period_start": "2026-10-01", "period_end": "2026-10-31", "amount": "3000", "version": 1},
    )
    assert ChannelCost.objects.get().amount == Decimal("3000")
    client.post(reverse("leads:cost_delete", args=[cost.pk]))
    assert not ChannelCost.objects.exists()


def test_it_edits_a_channel_from_its_current_values(marketing, website, login):
    client = login(marketing)
    edit = reverse("leads:channel_edit", args=[website.pk])
    form = client.get(edit).content.decode()
    assert 'value="官网表单"' in form and 'name="version" value="1"' in form
    response = client.post(
        edit, {"name": "官网询价表单", "kind": "website", "note": " 首页 ", "version": 1}
    )
    assert response.status_code == 302
    website.refresh_from_db()
    assert (website.name, website.note, website.active) == ("官网询价表单", "首页", False)
    stale = client.post(edit, {"name": "官网", "kind": "website", "version": 1})
    assert stale.status_code == 200
    website.refresh_from_db()
    assert website.name == "官网询价表单"


def test_the_channel_list_shows_cost_per_lead_to_those_who_see_costs(
    people, marketing, website, login
):
    today = date.today()
    services.add_channel_cost(
        website,
        by=marketing,
        period_start=today.replace(day=1),
        period_end=today,
        amount=Decimal("1000"),
    )
    for i in range(4):
        make_lead(marketing, channel=website, short_name=f"客户{i}")
    window = {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}
    page = login(marketing).get(reverse("leads:channel_list"), window).content.decode()
    assert "¥250.00" in page
    rep_page = login(people["rep_east1"]).get(reverse("leads:channel_list"), window)
    assert rep_page.status_code == 200 and "¥" not in rep_page.content.decode()


# --- Assignment rules ---------------------------------------------------------------------------


def test_a_manager_makes_a_rule_for_his_team_only(people, login):
    manager = people["manager_east"]
    client = login(manager)
    form = client.get(reverse("leads:rule_create")).content.decode()
    assert "华东销售组" in form and "华南销售组" not in form and "黄敏" not in form
    response = client.post(
        reverse("leads:rule_create"),
        {
            "name": "华东轮转",
            "unit": manager.unit_id,
            "members": [people["rep_east1"].pk, people["rep_east2"].pk],
            "active": "on",
            "sort_order": 0,
        },
    )
    assert response.status_code == 302
    rule = AssignmentRule.objects.get()
    assert [m.user.username for m in rule.memberships.all()] == ["rep_east1", "rep_east2"]
    south = client.post(
        reverse("leads:rule_create"),
        {"name": "越权", "unit": people["rep_south1"].unit_id, "members": [people["rep_east1"].pk]},
    )
    assert 'data-field-error="unit"' in south.content.decode()
    listing = client.get(reverse("leads:rule_list")).content.decode()
    assert "华东轮转" in listing and 'data-testid="rule-edit"' in listing
    edit = reverse("leads:rule_edit", args=[rule.pk])
    client.post(
        edit,
        {
            "name": "华东轮转",
            "unit": manager.unit_id,
            "members": [people["rep_east2"].pk],
            "sort_order": 0,
            "version": 1,
        },
    )
    rule.refresh_from_db()
    assert not rule.active and [m.user_id for m in rule.memberships.all()] == [
        people["rep_east2"].pk
    ]
    client.post(reverse("leads:rule_delete", args=[rule.pk]))
    assert not AssignmentRule.objects.exists()
    assert login(people["rep_east1"]).get(reverse("leads:rule_list")).status_code == 403


def test_record_pages_cost_a_bounded_number_of_queries(
    people, leads, marketing, website, login, django_assert_max_num_queries
):
    for i in range(10):
        services.update_lead(leads["mine"], by=marketing, needs=f"第 {i} 次更新")
        services.add_channel_cost(
            website,
            by=marketing,
            period_start=date(2025, 1 + i, 1),
            period_end=date(2025, 1 + i, 28),
            amount=Decimal("100"),
        )
    rep, boss = login(people["rep_east1"]), login(marketing)
    with django_assert_max_num_queries(16):
        assert rep.get(reverse("leads:lead_detail", args=[leads["mine"].pk])).status_code == 200
    with django_assert_max_num_queries(12):
        assert rep.get(reverse("leads:lead_convert", args=[leads["mine"].pk])).status_code == 200
    with django_assert_max_num_queries(16):
        assert boss.get(reverse("leads:channel_detail", args=[website.pk])).status_code == 200
    with django_assert_max_num_queries(10):
        assert boss.get(reverse("leads:channel_list")).status_code == 200
    with django_assert_max_num_queries(10):
        assert boss.get(reverse("leads:rule_list")).status_code == 200
