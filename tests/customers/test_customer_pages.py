"""The pages of one customer: create with the while-typing duplicate check, quick create, the
customer page, edit with a version, contacts, lifecycle override, collaborators, tags, merge
and delete. Three people tell the story: rep_east1 owns, manager_east leads his team,
rep_south1 works in another unit."""

import pytest
from django.urls import reverse

from tuoke.core.audit import trail_of
from tuoke.core.models import CustomField
from tuoke.customers import services
from tuoke.customers.models import (
    Collaborator,
    Contact,
    Customer,
    LifecycleChange,
    LifecycleStatus,
    Tag,
)

from .test_services import CODE

TENCENT = "深圳市腾讯计算机系统有限公司"


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def tencent(rep):
    return services.create_customer(
        by=rep,
        legal_name=TENCENT,
        short_name="腾讯",
        credit_code=CODE,
        contacts=[
            {"name": "马先生", "mobile": "13800138000", "email": "pony@tencent.com"},
        ],
    )


def _url(name, *args):
    return reverse(f"customers:{name}", args=args)


def _form(**overrides):
    data = {"short_name": "", "legal_name": "", "country": "CN", "currency": "CNY"}
    data.update(overrides)
    return data


# --- Create -------------------------------------------------------------------------------------


def test_it_creates_a_customer_with_its_first_contact_tags_and_custom_fields(people, rep, login):
    tag = services.tag_named("展会", by=rep)
    CustomField.objects.create(target="customer", key="erp_number", label="ERP 编号")
    client = login(rep)
    assert client.get(_url("customer_create")).status_code == 200
    response = client.post(
        _url("customer_create"),
        _form(
            legal_name="杭州云栖科技有限公司",
            short_name="云栖科技",
            credit_code=CODE,
            nature="private",
            province="浙江",
            city="杭州",
            tags=[tag.pk],
            contact_name="李娜",
            contact_mobile="139 0571 0000",
            contact_phone="0571-86001234",
            contact_email="Li.Na@Yunqi.cn",
            contact_title="采购经理",
            contact_is_key_person="on",
            custom__erp_number="ERP-001",
        ),
    )
    customer = Customer.objects.get(short_name="云栖科技")
    assert response.status_code == 302
    assert response.url == _url("customer_detail", customer.pk)
    assert customer.owner == rep and customer.credit_code == CODE
    assert list(customer.tags.all()) == [tag]
    assert customer.custom == {"erp_number": "ERP-001"}
    contact = customer.contacts.get()
    assert (contact.mobile, contact.phone, contact.email) == (
        "+8613905710000",
        "+8657186001234",
        "li.na@yunqi.cn",
    )
    assert contact.is_key_person


def test_it_refuses_a_wrong_credit_code_with_the_reason_on_the_field(rep, login):
    response = login(rep).post(
        _url("customer_create"), _form(short_name="云栖", credit_code=CODE[:-1] + "0")
    )
    assert response.status_code == 200
    assert "credit_code" in response.context["form"].errors
    assert "last character should be" in response.content.decode()
    assert not Customer.objects.filter(short_name="云栖").exists()


def test_it_needs_a_name_and_a_contact_name_for_contact_details(rep, login):
    response = login(rep).post(_url("customer_create"), _form(contact_mobile="13900000000"))
    errors = response.context["form"].errors
    assert response.status_code == 200
    assert "short_name" in errors and "contact_name" in errors


def test_it_blocks_the_same_company_under_a_variant_name_and_links_the_existing(
    rep, tencent, login
):
    response = login(rep).post(
        _url("customer_create"), _form(legal_name="騰訊計算機系統（深圳）有限公司")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors["legal_name"]
    assert 'data-testid="duplicate-same"' in body
    assert _url("customer_detail", tencent.pk) in body
    assert Customer.objects.count() == 1


def test_it_blocks_a_contact_mobile_that_another_customer_has(rep, tencent, login):
    response = login(rep).post(
        _url("customer_create"),
        _form(short_name="企鹅", contact_name="马", contact_mobile="+86 138-0013-8000"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["contact_mobile"]


def test_it_warns_of_similar_customers_and_saves_once_the_user_checked(rep, tencent, login):
    client = login(rep)
    data = _form(legal_name="深圳市腾迅计算机系统有限公司")
    refused = client.post(_url("customer_create"), data)
    assert refused.status_code == 200
    assert 'data-testid="duplicate-similar"' in refused.content.decode()
    assert 'name="allow_similar"' in refused.content.decode()
    saved = client.post(_url("customer_create"), {**data, "allow_similar": "on"})
    assert saved.status_code == 302
    assert Customer.objects.count() == 2


def test_a_manager_may_choose_the_owner_a_rep_may_not(people, rep, login):
    manager = people["manager_east"]
    form = login(manager).get(_url("customer_create")).context["form"]
    assert "owner" in form.fields
    response = login(manager).post(
        _url("customer_create"), _form(short_name="东方电气", owner=people["rep_east2"].pk)
    )
    assert response.status_code == 302
    assert Customer.objects.get(short_name="东方电气").owner == people["rep_east2"]
    assert "owner" not in login(rep).get(_url("customer_create")).context["form"].fields


# --- The duplicate check while typing -----------------------------------------------------------


def test_the_check_while_typing_shows_the_same_company_with_a_link(rep, tencent, login):
    response = login(rep).post(_url("customer_duplicates"), {"legal_name": "腾讯计算机系统"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-blocking="true"' in body and "blocked = true" in body
    assert _url("customer_detail", tencent.pk) in body
    assert "same name" in body


def test_the_check_reveals_only_name_and_owner_of_a_customer_out_of_scope(people, tencent, login):
    response = login(people["rep_south1"]).post(
        _url("customer_duplicates"),
        {"legal_name": "腾讯计算机系统（深圳）有限公司", "contact_mobile": "13800138000"},
    )
    body = response.content.decode()
    assert 'data-blocking="true"' in body
    assert "腾讯" in body and str(people["rep_east1"]) in body
    assert _url("customer_detail", tencent.pk) not in body
    for secret in (CODE, TENCENT, "马先生", "pony@tencent.com", "same phone", "same name"):
        assert secret not in body
    assert 'data-testid="ask-access"' in body


def test_the_check_lists_similar_customers_without_blocking(rep, tencent, login):
    body = (
        login(rep)
        .post(_url("customer_duplicates"), {"short_name": "腾迅计算机系统"})
        .content.decode()
    )
    assert 'data-blocking="false"' in body and 'data-testid="duplicate-similar"' in body


def test_the_check_tells_a_wrong_credit_code_while_typing(rep, login):
    client = login(rep)
    body = client.post(_url("customer_duplicates"), {"credit_code": CODE[:-1] + "0"}).content
    assert b'hx-swap-oob="true"' in body and b"credit-code-error" in body
    fine = client.post(_url("customer_duplicates"), {"credit_code": CODE}).content
    assert b"credit-code-error" not in fine


def test_the_check_answers_only_posts_of_users_who_may_create(people, login):
    assert login(people["rep_east1"]).get(_url("customer_duplicates")).status_code == 405
    assert login(people["admin"]).post(_url("customer_duplicates"), {}).status_code in (200, 403)


def test_the_check_excludes_the_customer_being_edited_but_only_within_scope(
    people, rep, tencent, login
):
    body = (
        login(rep)
        .post(_url("customer_duplicates"), {"legal_name": TENCENT, "exclude": tencent.pk})
        .content.decode()
    )
    assert 'data-blocking="false"' in body
    other = login(people["rep_south1"]).post(
        _url("customer_duplicates"), {"legal_name": TENCENT, "exclude": tencent.pk}
    )
    assert other.status_code == 404


# --- Quick create -------------------------------------------------------------------------------


def test_quick_create_keeps_a_legal_name_as_legal_and_a_short_one_as_short(rep, login):
    client = login(rep)
    assert client.get(_url("customer_quick_create")).status_code == 200
    response = client.post(
        _url("customer_quick_create"),
        {"name": "苏州精工机械有限公司", "contact_name": "周工", "contact_mobile": "13912345678"},
    )
    assert response.status_code == 302
    customer = Customer.objects.get(legal_name="苏州精工机械有限公司")
    assert customer.contacts.get().mobile == "+8613912345678"
    client.post(_url("customer_quick_create"), {"name": "小米"})
    assert Customer.objects.filter(short_name="小米", legal_name="").exists()


def test_quick_create_shows_a_duplicate_on_the_name(rep, tencent, login):
    response = login(rep).post(_url("customer_quick_create"), {"name": "深圳腾讯计算机系统"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert 'data-testid="duplicate-same"' in response.content.decode()


# --- The customer page --------------------------------------------------------------------------


def test_the_page_shows_facts_contacts_history_and_the_timeline(
    rep, tencent, login, django_assert_max_num_queries
):
    for i in range(25):
        services.create_contact(tencent, by=rep, name=f"联系人{i:02d}", mobile=f"139000000{i:02d}")
    client = login(rep)
    client.get(_url("customer_detail", tencent.pk))  # warm caches (content types, custom fields)
    with django_assert_max_num_queries(25):
        response = client.get(_url("customer_detail", tencent.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert TENCENT in body and "Private enterprise" not in body
    assert "139 0000 0000" in body  # the stored +8613900000000, formatted for reading
    assert len(response.context["contacts_page"].object_list) == 20
    # The timeline loads after the page (tests/activities/test_timeline.py).
    assert 'data-testid="timeline-loading"' in body
    assert 'data-testid="audit-trail"' in body
    assert 'data-testid="lifecycle-override"' not in body
    assert 'data-testid="customer-edit"' in body


def test_the_page_shows_display_labels_and_custom_values(rep, login):
    field = CustomField.objects.create(target="customer", key="erp_number", label="ERP 编号")
    customer = services.create_customer(
        by=rep, short_name="云栖", nature="state", custom={field.key: "ERP-9"}
    )
    body = login(rep).get(_url("customer_detail", customer.pk)).content.decode()
    assert "State-owned enterprise" in body
    assert "ERP 编号" in body and "ERP-9" in body


def test_a_manager_sees_the_page_with_the_override_a_colleague_gets_404(people, tencent, login):
    manager = login(people["manager_east"]).get(_url("customer_detail", tencent.pk))
    assert 'data-testid="lifecycle-override"' in manager.content.decode()
    for name in ("customer_detail", "customer_edit", "customer_delete", "customer_merge"):
        assert login(people["rep_south1"]).get(_url(name, tencent.pk)).status_code == 404
    assert login(people["rep_east2"]).get(_url("customer_detail", tencent.pk)).status_code == 404


# --- Edit ---------------------------------------------------------------------------------------


def _edit_data(customer, **overrides):
    data = {
        **{k: v or "" for k, v in _edit_initial(customer).items()},
        "version": customer.version,
    }
    data.update(overrides)
    return data


def _edit_initial(customer):
    from tuoke.customers.forms import CustomerForm

    initial = CustomerForm.initial_for(customer)
    initial.pop("tags")
    return initial


def test_it_saves_an_edit_and_audits_it(rep, tencent, login):
    response = login(rep).post(
        _url("customer_edit", tencent.pk), _edit_data(tencent, industry="互联网", city="深圳")
    )
    assert response.status_code == 302
    tencent.refresh_from_db()
    assert (tencent.industry, tencent.city, tencent.version) == ("互联网", "深圳", 2)
    fields = {c["field"] for c in trail_of(tencent).first().changes}
    assert fields == {"industry", "city"}


def test_a_stale_edit_is_refused_with_a_clear_message_and_nothing_written(rep, tencent, login):
    stale = _edit_data(tencent, industry="游戏")
    services.update_customer(tencent, by=rep, industry="社交")
    response = login(rep).post(_url("customer_edit", tencent.pk), stale)
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    tencent.refresh_from_db()
    assert tencent.industry == "社交"


def test_an_edit_may_not_take_another_customers_name(rep, tencent, login):
    other = services.create_customer(by=rep, short_name="阿里")
    response = login(rep).post(
        _url("customer_edit", other.pk), _edit_data(other, legal_name="腾讯计算机系统有限公司")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["legal_name"]


# --- Lifecycle override -------------------------------------------------------------------------


def test_a_rep_cannot_override_the_lifecycle(rep, tencent, login):
    client = login(rep)
    assert client.get(_url("customer_lifecycle", tencent.pk)).status_code == 403
    response = client.post(
        _url("customer_lifecycle", tencent.pk), {"to_status": "signed", "reason": "签了"}
    )
    assert response.status_code == 403
    tencent.refresh_from_db()
    assert tencent.lifecycle_status == LifecycleStatus.POTENTIAL


def test_a_manager_overrides_with_a_reason_that_is_kept(people, tencent, login):
    client = login(people["manager_east"])
    url = _url("customer_lifecycle", tencent.pk)
    refused = client.post(url, {"to_status": "intent", "reason": " "})
    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"]
    reason = "客户口头确认意向"
    assert client.post(url, {"to_status": "intent", "reason": reason}).status_code == 302
    change = LifecycleChange.objects.filter(customer=tencent).first()
    assert (change.to_status, change.cause, change.reason) == ("intent", "override", reason)
    body = client.get(_url("customer_detail", tencent.pk)).content.decode()
    assert "客户口头确认意向" in body


def test_a_manager_of_another_unit_gets_404_for_the_override(people, tencent, login):
    response = login(people["manager_south"]).get(_url("customer_lifecycle", tencent.pk))
    assert response.status_code == 404


# --- Collaborators and tags ---------------------------------------------------------------------


def test_the_owner_shares_the_customer_and_stops_sharing_it(people, rep, tencent, login):
    colleague = people["rep_east2"]
    client = login(rep)
    url = _url("customer_collaborators", tencent.pk)
    assert client.post(url, {"user": colleague.pk, "access": "read"}).status_code == 302
    assert Collaborator.objects.get(customer=tencent, user=colleague).access == "read"
    colleague_client = login(colleague)
    assert colleague_client.get(_url("customer_detail", tencent.pk)).status_code == 200
    assert colleague_client.get(_url("customer_edit", tencent.pk)).status_code == 403
    assert colleague_client.post(url, {"user": rep.pk, "access": "edit"}).status_code == 403
    client.post(url, {"remove": colleague.pk})
    assert not Collaborator.objects.filter(customer=tencent).exists()
    assert colleague_client.get(_url("customer_detail", tencent.pk)).status_code == 404


def test_removing_a_collaborator_by_a_bad_id_is_404_not_an_error(rep, tencent, login):
    url = _url("customer_collaborators", tencent.pk)
    assert login(rep).post(url, {"remove": "abc"}).status_code == 404


def test_a_collaborator_can_only_be_someone_the_sharer_may_see(people, rep, tencent, login):
    login(rep).post(
        _url("customer_collaborators", tencent.pk),
        {"user": people["rep_south1"].pk, "access": "edit"},
    )
    assert not Collaborator.objects.filter(customer=tencent).exists()


def test_tags_are_edited_in_place_and_new_ones_made(rep, tencent, login):
    old = services.tag_named("重点客户", by=rep)
    response = login(rep).post(
        _url("customer_tags", tencent.pk),
        {"tags": [old.pk], "new_tag": "展会"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="customer-tags"' in response.content.decode()
    assert sorted(t.name for t in tencent.tags.all()) == ["展会", "重点客户"]
    assert Tag.objects.count() == 2


# --- Contacts -----------------------------------------------------------------------------------


def test_contacts_are_added_edited_and_deleted(rep, tencent, login):
    client = login(rep)
    response = client.post(
        _url("contact_create", tencent.pk),
        {"name": "张伟", "mobile": "+49 30 1234567", "email": "Zhang@Tencent.com", "title": "CTO"},
    )
    assert response.status_code == 302
    contact = tencent.contacts.get(name="张伟")
    assert contact.mobile == "+49301234567"
    form = client.get(_url("contact_edit", contact.pk)).context["form"]
    assert form.initial["mobile"] == "+49 30 1234567"
    edited = client.post(
        _url("contact_edit", contact.pk),
        {"name": "张伟", "mobile": "+49 30 1234567", "is_key_person": "on", "version": 1},
    )
    assert edited.status_code == 302
    contact.refresh_from_db()
    assert contact.is_key_person and contact.email == ""
    assert client.post(_url("contact_delete", contact.pk)).status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert Contact.all_objects.get(pk=contact.pk).deleted_at is not None


def test_a_contact_with_a_mobile_known_elsewhere_is_refused_by_name_of_that_customer(
    people, tencent, login
):
    mine = services.create_customer(by=people["rep_south1"], short_name="南方")
    response = login(people["rep_south1"]).post(
        _url("contact_create", mine.pk), {"name": "马", "mobile": "13800138000"}
    )
    assert response.status_code == 200
    assert "腾讯" in str(response.context["form"].errors["mobile"])


def test_a_stale_contact_edit_is_refused(rep, tencent, login):
    contact = tencent.contacts.get()
    services.update_contact(contact, by=rep, title="CEO")
    response = login(rep).post(
        _url("contact_edit", contact.pk), {"name": "马先生", "title": "董事长", "version": 1}
    )
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.title == "CEO"


def test_a_bad_phone_is_refused_on_its_field(rep, tencent, login):
    response = login(rep).post(_url("contact_create", tencent.pk), {"name": "王", "phone": "12"})
    assert response.status_code == 200
    assert "area code" in str(response.context["form"].errors["phone"])


def test_contacts_of_another_units_customer_are_404(people, tencent, login):
    contact = tencent.contacts.get()
    client = login(people["rep_south1"])
    assert client.get(_url("contact_edit", contact.pk)).status_code == 404
    assert client.post(_url("contact_delete", contact.pk)).status_code == 404
    assert client.post(_url("contact_create", tencent.pk), {"name": "x"}).status_code == 404


# --- Merge and delete ---------------------------------------------------------------------------


def test_merge_previews_what_moves_then_folds_the_other_in(rep, tencent, login):
    other = services.create_customer(
        by=rep,
        short_name="腾讯深圳",
        industry="互联网",
        contacts=[{"name": "小马", "mobile": "13700000000"}],
        allow_similar=True,
    )
    client = login(rep)
    picker = client.get(_url("customer_merge", tencent.pk), {"q": "腾讯深圳"})
    assert list(picker.context["candidates"]) == [other]
    preview = client.get(_url("customer_merge", tencent.pk), {"other": other.pk})
    assert ("contacts", 1) in preview.context["preview"].moves
    assert ("industry", "互联网") in preview.context["preview"].filled
    response = client.post(_url("customer_merge", tencent.pk), {"other": other.pk})
    assert response.url == _url("customer_detail", tencent.pk)
    assert sorted(c.name for c in tencent.contacts.all()) == ["小马", "马先生"]
    assert Customer.all_objects.get(pk=other.pk).deleted_at is not None
    assert "Merged" in trail_of(tencent).first().note
    page = client.get(_url("customer_detail", tencent.pk)).content.decode()
    assert "Merged 腾讯深圳" in page


def test_merge_refuses_a_customer_the_user_may_not_delete(people, rep, tencent, login):
    south = services.create_customer(by=people["rep_south1"], short_name="南方")
    client = login(rep)
    assert client.get(_url("customer_merge", tencent.pk), {"other": south.pk}).status_code == 404
    assert client.post(_url("customer_merge", tencent.pk), {"other": south.pk}).status_code == 404
    picker = client.get(_url("customer_merge", tencent.pk), {"q": "南方"})
    assert list(picker.context["candidates"]) == []


def test_delete_asks_first_then_moves_to_the_recycle_bin(rep, tencent, login):
    client = login(rep)
    confirm = client.get(_url("customer_delete", tencent.pk))
    assert 'data-testid="confirm"' in confirm.content.decode()
    assert Customer.objects.filter(pk=tencent.pk).exists()
    assert client.post(_url("customer_delete", tencent.pk)).status_code == 302
    assert not Customer.objects.filter(pk=tencent.pk).exists()
    assert client.get(_url("customer_detail", tencent.pk)).status_code == 404
