"""The pages to log, read, edit and delete a follow-up, and the follow-up kinds' settings."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tuoke.activities import services
from tuoke.activities.models import FollowUp, FollowUpKind, Task
from tuoke.core.services import create_record

from . import records


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def customer(rep):
    return records.customer(rep, contacts=[{"name": "王强", "title": "采购经理"}])


def test_the_link_pre_fills_customer_and_kind(login, rep, customer):
    page = login(rep).get(f"/activities/follow-ups/new/?customer={customer.pk}&kind=wechat")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="kind-wechat" checked' in html
    assert f'name="customer" value="{customer.pk}"' in html
    assert "王强 · 采购经理" in html  # the customer's contacts as checkboxes
    assert "autofocus" in html


def test_saving_only_the_content_logs_it_and_goes_back_to_the_customer(login, rep, customer):
    response = login(rep).post(
        "/activities/follow-ups/new/",
        {"customer": customer.pk, "kind": "call", "content": "电话沟通，客户要报价"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/"
    follow_up = FollowUp.objects.get()
    assert (follow_up.owner, follow_up.kind.key, follow_up.content) == (
        rep,
        "call",
        "电话沟通，客户要报价",
    )


def test_without_a_kind_in_the_link_the_first_kind_is_chosen(login, rep, customer):
    html = login(rep).get(f"/activities/follow-ups/new/?customer={customer.pk}").content.decode()
    assert 'data-testid="kind-call" checked' in html


def test_a_task_pre_fills_its_customer_and_kind_and_is_done_by_it(login, rep, customer):
    task = create_record(
        Task,
        by=rep,
        owner=rep,
        title="回访王强",
        due_on=timezone.localdate() + timedelta(days=3),
        customer=customer,
        kind=FollowUpKind.objects.get(key="visit"),
    )
    client = login(rep)
    html = client.get(f"/activities/follow-ups/new/?task={task.pk}").content.decode()
    assert 'data-testid="kind-visit" checked' in html and "回访王强" in html
    response = client.post(
        f"/activities/follow-ups/new/?task={task.pk}",
        {"task": task.pk, "kind": "visit", "content": "上门拜访", "next": "/"},
    )
    assert response["Location"] == "/"
    task.refresh_from_db()
    assert task.done_with == FollowUp.objects.get()


def test_it_shows_what_is_missing(login, rep, customer):
    response = login(rep).post(
        "/activities/follow-ups/new/",
        {"customer": customer.pk, "kind": "call", "content": " ", "next_step_on": "2000-01-01"},
    )
    assert response.status_code == 200
    assert 'data-field-error="content"' in response.content.decode()
    assert not FollowUp.objects.exists()


def test_the_compact_form_answers_htmx_with_a_confirmation(login, rep, customer):
    client = login(rep)
    form = client.get(
        f"/activities/follow-ups/new/?customer={customer.pk}&kind=call",
        headers={"HX-Request": "true"},
    )
    assert 'data-testid="follow-up-quick"' in form.content.decode()
    saved = client.post(
        "/activities/follow-ups/new/",
        {"customer": customer.pk, "kind": "call", "content": "微信沟通"},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200 and saved["HX-Trigger"] == "follow-up-logged"
    assert 'data-testid="follow-up-logged"' in saved.content.decode()


def test_without_a_customer_the_rep_picks_one(login, rep, customer):
    client = login(rep)
    page = client.get("/activities/follow-ups/new/?kind=call")
    assert 'data-testid="subject-picker"' in page.content.decode()
    found = client.get("/activities/follow-ups/subjects/", {"q": "腾达", "kind": "call"})
    assert f"/activities/follow-ups/new/?kind=call&amp;customer={customer.pk}" in (
        found.content.decode()
    )


def test_a_customer_out_of_scope_is_not_found(login, people, rep):
    south = records.south_customer(people)
    response = login(rep).get(f"/activities/follow-ups/new/?customer={south.pk}")
    assert response.status_code == 404
    response = login(rep).post(
        "/activities/follow-ups/new/", {"customer": south.pk, "kind": "call", "content": "x"}
    )
    assert response.status_code == 404 and not FollowUp.objects.exists()


def test_the_author_edits_and_deletes_his_follow_up(login, rep, customer):
    follow_up = services.log_follow_up(by=rep, customer=customer, kind="call", content="电话")
    client = login(rep)
    page = client.get(f"/activities/follow-ups/{follow_up.pk}/")
    assert 'data-testid="follow-up-edit"' in page.content.decode()
    response = client.post(
        f"/activities/follow-ups/{follow_up.pk}/edit/",
        {
            "version": follow_up.version,
            "kind": "wechat",
            "content": "改成微信",
            "happened_at": timezone.localtime(follow_up.happened_at).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.kind.key == "wechat" and follow_up.content == "改成微信"

    # A stale version is refused.
    stale = client.post(
        f"/activities/follow-ups/{follow_up.pk}/edit/",
        {"version": 1, "kind": "call", "content": "过期"},
    )
    assert stale.status_code == 200 and "changed by someone else" in stale.content.decode()

    assert client.get(f"/activities/follow-ups/{follow_up.pk}/delete/").status_code == 200
    response = client.post(f"/activities/follow-ups/{follow_up.pk}/delete/")
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert not FollowUp.objects.exists()


def test_a_colleague_may_read_but_not_change_it(login, people, rep, customer):
    from tuoke.customers.services import set_collaborator

    follow_up = services.log_follow_up(by=rep, customer=customer, kind="call", content="电话")
    colleague = people["rep_east2"]
    set_collaborator(customer, user=colleague, access="edit", by=rep)
    client = login(colleague)
    page = client.get(f"/activities/follow-ups/{follow_up.pk}/")
    assert page.status_code == 200 and 'data-testid="follow-up-edit"' not in page.content.decode()
    assert client.post(f"/activities/follow-ups/{follow_up.pk}/delete/").status_code == 404


def test_the_customer_page_links_to_logging_and_holds_the_comments(login, rep, customer):
    html = login(rep).get(f"/customers/{customer.pk}/").content.decode()
    assert f"/activities/follow-ups/new/?customer={customer.pk}" in html
    assert f"/activities/comments/?customer={customer.pk}" in html


def test_the_lead_page_links_to_logging_and_holds_the_comments(login, rep):
    from tuoke.leads.services import create_lead

    lead = create_lead(by=rep, company_name="杭州云栖科技有限公司", owner=rep)
    html = login(rep).get(f"/leads/{lead.pk}/").content.decode()
    assert f"/activities/follow-ups/new/?lead={lead.pk}" in html
    assert f"/activities/comments/?lead={lead.pk}" in html


# --- Kinds --------------------------------------------------------------------------------------


def test_an_administrator_keeps_the_kinds(login, admin_user):
    client = login(admin_user)
    assert client.get("/activities/kinds/").status_code == 200
    client.post("/activities/kinds/", {"name": "展会交流", "icon": "building-store"})
    fair = FollowUpKind.objects.get(name="展会交流")
    client.post(f"/activities/kinds/{fair.pk}/move/", {"direction": "up"})
    client.post(f"/activities/kinds/{fair.pk}/edit/", {"version": fair.version, "name": "展会"})
    client.post(f"/activities/kinds/{fair.pk}/toggle/")
    fair.refresh_from_db()
    assert fair.name == "展会" and not fair.active
    order = list(FollowUpKind.objects.order_by("sort_order").values_list("key", flat=True))
    assert order[-2] == fair.key


def test_a_rep_may_not_keep_the_kinds(login, rep):
    client = login(rep)
    assert client.get("/activities/kinds/").status_code == 403
    call = FollowUpKind.objects.get(key="call")
    assert client.post(f"/activities/kinds/{call.pk}/toggle/").status_code == 404
