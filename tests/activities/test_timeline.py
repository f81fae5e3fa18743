"""The customer's timeline: what it shows, in which order, to whom (data scopes), and its page
fragment; the API is in test_timeline_api.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tuoke.activities.models import Comment, FollowUp, FollowUpKind, Visit
from tuoke.core import timeline
from tuoke.core.models import Action, Scope
from tuoke.customers import services as customer_services
from tuoke.customers.models import Customer
from tuoke.customers.services import Cause
from tuoke.leads.services import create_lead
from tuoke.org.defaults import ensure_default_roles

T0 = datetime(2025, 11, 22, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai, a Saturday


@pytest.fixture(autouse=True)
def _in_english():
    """Titles are compared in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


@pytest.fixture
def rep(people):
    ensure_default_roles()
    return people["rep_east1"]


def follow_up(customer, by, content: str, at: datetime, *, kind: str = "call", **more):
    return FollowUp.objects.create(
        owner=by,
        created_by=by,
        customer=customer,
        kind=FollowUpKind.objects.get(key=kind),
        content=content,
        happened_at=at,
        **more,
    )


def comment(customer, by, body: str, at: datetime) -> Comment:
    with time_machine.travel(at, tick=False):
        return Comment.objects.create(author=by, created_by=by, customer=customer, body=body)


def make_customer(by, name: str = "腾达精密", at: datetime = T0, **facts) -> Customer:
    with time_machine.travel(at, tick=False):
        return customer_services.create_customer(by=by, short_name=name, **facts)


def events(customer, user, **kwargs) -> list[timeline.Event]:
    return timeline.page(customer, user, limit=100, **kwargs).events


def test_it_shows_the_customers_life_newest_first(rep, people):
    manager = people["manager_east"]
    customer = make_customer(rep, contacts=[{"name": "王强", "title": "采购经理"}])
    follow_up(
        customer,
        rep,
        "确认了报价 <b>不含税</b>",
        T0 + timedelta(hours=1),
        result="有意向",
        next_step="上门演示",
        next_step_on=(T0 + timedelta(days=3)).date(),
    )
    comment(customer, people["rep_east2"], "客户下周出差", T0 + timedelta(hours=2))
    visit = Visit.objects.create(
        owner=rep,
        customer=customer,
        planned_at=T0 + timedelta(days=1),
        purpose="演示产品",
        status=Visit.Status.DONE,
        checked_in_at=T0 + timedelta(hours=3),
        address="上海市浦东新区张江路 88 号",
        follow_up=follow_up(customer, rep, "现场演示顺利", T0 + timedelta(hours=3), kind="visit"),
    )
    with time_machine.travel(T0 + timedelta(hours=4), tick=False):
        customer_services.update_customer(customer, by=rep, industry="机械制造")
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        customer_services.advance_lifecycle(customer, to="intent", cause=Cause.FOLLOW_UP, by=rep)
    with time_machine.travel(T0 + timedelta(hours=6), tick=False):
        customer_services.transfer_customers(
            [customer], to=people["rep_east2"], reason="调整区域", by=manager
        )

    shown = events(customer, manager)

    assert [(e.kind, e.title) for e in shown] == [
        ("ownership", "Owner: 张伟 → 刘洋"),
        ("lifecycle", "Status: Potential → Intent"),
        ("changes", "Changed industry"),
        ("visit", "Visited"),
        ("comment", "Comment"),
        ("follow_up", "Call"),
        # Created at the same moment: ordered by kind, then id.
        ("contact", "Contact added: 王强"),
        ("changes", "Customer created"),
    ]
    by_kind = {e.kind: e for e in shown}
    # What users wrote is escaped; the rest of the body is HTML.
    call = by_kind["follow_up"]
    assert "&lt;b&gt;不含税&lt;/b&gt;" in call.body and "<b>" not in call.body
    assert "有意向" in call.body and "上门演示" in call.body
    assert call.actor == rep
    # The visit carries its follow-up, which is not shown a second time.
    assert by_kind["visit"].pk == visit.pk
    assert "现场演示顺利" in by_kind["visit"].body and "张江路" in by_kind["visit"].body
    assert "调整区域" in by_kind["ownership"].body
    assert by_kind["ownership"].actor == manager
    assert "机械制造" in shown[2].body
    assert by_kind["comment"].actor == people["rep_east2"]


def test_a_colleagues_follow_up_is_shown_but_not_one_about_a_lead_or_another_customer(rep, people):
    customer = make_customer(rep)
    other = make_customer(rep, "华辰物流")
    lead = create_lead(by=rep, short_name="腾达精密")
    follow_up(customer, people["rep_east2"], "同事代为回访", T0 + timedelta(hours=1))
    follow_up(other, rep, "别的客户", T0 + timedelta(hours=1))
    FollowUp.objects.create(
        owner=rep,
        lead=lead,
        kind=FollowUpKind.objects.get(key="call"),
        content="线索的跟进",
        happened_at=T0 + timedelta(hours=1),
    )
    follow_up(customer, rep, "转化后的跟进", T0 + timedelta(hours=2), lead=lead)

    shown = [e for e in events(customer, rep) if e.kind == "follow_up"]

    assert [e.body.count("同事代为回访") + e.body.count("转化后的跟进") for e in shown] == [1, 1]
    assert not any("线索的跟进" in e.body or "别的客户" in e.body for e in shown)


def test_a_deleted_follow_up_is_not_shown(rep):
    customer = make_customer(rep)
    gone = follow_up(customer, rep, "删掉的", T0 + timedelta(hours=1))
    FollowUp.all_objects.filter(pk=gone.pk).update(deleted_at=T0 + timedelta(hours=2))
    assert "follow_up" not in {e.kind for e in events(customer, rep)}


def test_someone_who_may_not_see_follow_ups_sees_the_rest(rep, people):
    from tuoke.org.services import create_role, invite_user

    role = create_role(
        name="只看客户",
        grants={("customer", Action.VIEW): Scope.ALL, ("contact", Action.VIEW): Scope.ALL},
        by=people["admin"],
    )
    reader = invite_user(
        username="reader", display_name="读者", roles=[role], password="x", by=people["admin"]
    )
    customer = make_customer(rep)
    follow_up(customer, rep, "看不见", T0 + timedelta(hours=1))

    found = timeline.page(customer, reader)

    assert "follow_up" not in {e.kind for e in found.events}
    assert "follow_up" not in {s.key for s in found.kinds}
    assert {"changes", "lifecycle", "ownership", "contact"} <= {s.key for s in found.kinds}
    assert timeline.page(customer, reader, kinds=["follow_up"]).events == []


def test_a_collaborator_sees_the_follow_ups_of_a_shared_customer(rep, people):
    customer = make_customer(rep)
    follow_up(customer, rep, "共享客户的跟进", T0 + timedelta(hours=1))
    customer_services.set_collaborator(customer, user=people["rep_south1"], access="read", by=rep)

    shown = events(customer, people["rep_south1"], kinds=["follow_up"])

    assert len(shown) == 1 and "共享客户的跟进" in shown[0].body


def test_a_page_costs_the_same_queries_for_10_or_100_events(rep, people, login):
    # Made after the events, so that the first page has every kind whatever their number.
    customer = make_customer(rep, contacts=[{"name": "王强"}], at=T0 + timedelta(days=10))
    client = login(rep)
    url = reverse("activities:customer_timeline", args=[customer.pk])

    def add(count: int, start: int) -> None:
        for i in range(start, start + count):
            at = T0 + timedelta(minutes=i)
            if i % 3 == 0:
                follow_up(customer, people["rep_east2"], f"跟进 {i}", at)
            elif i % 3 == 1:
                comment(customer, rep, f"评论 {i}", at)
            else:
                Visit.objects.create(owner=rep, customer=customer, planned_at=at, purpose=f"{i}")

    def queries() -> int:
        client.get(url)  # sessions and caches warm
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured)

    add(10, 0)
    few = queries()
    add(90, 10)
    assert queries() == few


# --- The page fragment --------------------------------------------------------------------------


def test_the_customer_page_loads_the_timeline(rep, login):
    customer = make_customer(rep)
    response = login(rep).get(reverse("customers:customer_detail", args=[customer.pk]))
    html = response.content.decode()
    assert reverse("activities:customer_timeline", args=[customer.pk]) in html
    assert 'data-testid="timeline-loading"' in html


def test_the_fragment_shows_chips_events_and_load_more(rep, login):
    customer = make_customer(rep)
    for i in range(25):
        follow_up(customer, rep, f"第{i}次跟进", T0 + timedelta(hours=i + 1))
    client = login(rep)
    url = reverse("activities:customer_timeline", args=[customer.pk])

    first = client.get(url, headers={"HX-Request": "true"})
    html = first.content.decode()
    assert html.count('data-testid="timeline-event"') == timeline.PAGE_SIZE
    assert 'data-kind="follow_up"' in html and 'data-testid="timeline-chips"' in html
    assert "第24次跟进" in html and "第4次跟进" not in html
    cursor = first.context["page"].next_cursor
    assert cursor and "timeline-more" in html

    rest = client.get(url, {"before": cursor}).content.decode()
    # The older events only, without the chips; the last page has no "Load more".
    assert rest.count('data-testid="timeline-event"') == 6
    assert "第0次跟进" in rest and "第4次跟进" in rest and "第5次跟进" not in rest
    assert "Customer created" in rest
    assert "timeline-chips" not in rest and "timeline-more" not in rest


def test_the_fragment_filters_by_kind_and_keeps_the_filter_when_loading_more(rep, login):
    customer = make_customer(rep)
    for i in range(21):
        comment(customer, rep, f"评论{i}", T0 + timedelta(hours=i + 1))
    follow_up(customer, rep, "唯一的跟进", T0 + timedelta(days=5))
    client = login(rep)
    url = reverse("activities:customer_timeline", args=[customer.pk])

    response = client.get(url, {"kinds": "comment"})
    html = response.content.decode()
    assert "唯一的跟进" not in html
    assert html.count('data-testid="timeline-event"') == 20
    assert "kinds=comment&amp;before=" in html
    # The comment chip is on; pressing it again takes the filter away.
    chips = {c["source"].key: c for c in response.context["chips"]}
    assert chips["comment"]["active"] and chips["comment"]["kinds"] == ""
    assert chips["follow_up"]["kinds"] == "comment,follow_up"

    empty = client.get(url, {"kinds": "visit"}).content.decode()
    assert 'data-testid="timeline-empty"' in empty


def test_the_fragment_refuses_a_bad_cursor_and_a_customer_out_of_scope(rep, people, login):
    customer = make_customer(rep)
    url = reverse("activities:customer_timeline", args=[customer.pk])
    assert login(rep).get(url, {"before": "nonsense"}).status_code == 400
    assert login(people["rep_south1"]).get(url).status_code == 404
    assert login(rep).post(url).status_code == 405


def test_dates_read_as_in_a_plan_with_the_exact_time_on_hover(rep, login):
    customer = make_customer(rep)
    follow_up(customer, rep, "周六的电话", T0)
    client = login(rep)
    client.cookies["tuoke_language"] = "zh-hans"
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        html = client.get(reverse("activities:customer_timeline", args=[customer.pk])).content
    html = html.decode()
    assert "11月22日 周六 14:30" in html
    assert 'title="2025-11-22 14:30:00"' in html
    # Django's own words for "3 days ago".
    assert "3\xa0日前" in html


def test_what_the_activities_services_write_shows_once_each(rep, people):
    from tuoke.activities import services

    customer = make_customer(rep, contacts=[{"name": "王强"}])
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.log_follow_up(by=rep, customer=customer, kind="wechat", content="发了报价单")
        visit = services.plan_visit(
            by=rep, customer=customer, planned_at=T0 + timedelta(days=1), purpose="演示"
        )
    with time_machine.travel(T0 + timedelta(days=1, minutes=5), tick=False):
        services.check_in(visit, address="张江路 88 号", by=rep)
        services.complete_visit(visit, "演示顺利，客户要试用", by=rep)
        services.add_comment(by=people["rep_east2"], customer=customer, body="@张伟 记得发合同")
    with time_machine.travel(T0 + timedelta(days=1, hours=1), tick=False):
        gone = services.log_follow_up(by=rep, customer=customer, kind="call", content="打错了")
        services.delete_follow_up(gone, by=rep)

    shown = events(customer, people["manager_east"])

    kinds = [e.kind for e in shown]
    assert kinds.count("visit") == 1 and kinds.count("comment") == 1
    assert kinds.count("follow_up") == 1  # the visit's own follow-up is shown with the visit
    visit_event = next(e for e in shown if e.kind == "visit")
    assert visit_event.title == "Visited" and "演示顺利" in visit_event.body
    assert visit_event.url == reverse("activities:visit_detail", args=[visit.pk])
    assert "@张伟 记得发合同" in next(e for e in shown if e.kind == "comment").body
    assert not any("打错了" in e.body for e in shown)
