"""A rep opens a customer on his phone: the timeline shows its follow-ups, visits, comments and
changes newest first; he filters it to the comments, goes back to everything and loads older
events."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _customer_with_a_history(people):
    from tuoke.activities.models import Comment, FollowUp, FollowUpKind, Visit
    from tuoke.customers.services import create_customer
    from tuoke.org.defaults import ensure_default_roles

    ensure_default_roles()
    rep, colleague = people["rep_east1"], people["rep_east2"]
    customer = create_customer(by=rep, short_name="腾达精密", contacts=[{"name": "王强"}])
    call = FollowUpKind.objects.get(key="call")
    start = timezone.now() - timedelta(days=40)
    for day in range(30):
        FollowUp.objects.create(
            owner=rep if day % 2 else colleague,
            customer=customer,
            kind=call,
            content=f"第{day + 1}次电话：确认需求和报价",
            result="有意向" if day % 5 == 0 else "",
            happened_at=start + timedelta(days=day, hours=2),
        )
    for n in range(3):
        Comment.objects.create(
            author=colleague, customer=customer, body=f"留言{n + 1}：客户下周出差，改约周五"
        )
    Visit.objects.create(
        owner=rep,
        customer=customer,
        planned_at=timezone.now() + timedelta(days=2),
        purpose="上门演示新版本",
    )
    return customer


def test_a_rep_reads_filters_and_pages_the_timeline_on_his_phone(people, open_page):
    customer = _customer_with_a_history(people)
    page, console = open_page(viewport=PHONE, locale="zh-CN")
    log_in(page, "rep_east1")

    page.goto(f"/customers/{customer.pk}/")
    events = page.locator("[data-testid=timeline-event]")
    events.first.wait_for()
    # A first page, newest first: the planned visit, the comments, then the latest calls.
    expect(events).to_have_count(20)
    assert events.first.get_attribute("data-kind") == "visit"
    assert events.nth(1).get_attribute("data-kind") == "comment"
    assert "第30次电话" in events.and_(page.locator("[data-kind=follow_up]")).first.inner_text()
    when = events.nth(4).locator("[data-testid=timeline-when]")
    assert "周" in when.inner_text() and when.get_attribute("title")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"
    screenshot(page, "timeline-journey-phone")
    page.locator("[data-testid=timeline]").screenshot(
        path=str(screenshot(page, "timeline-journey-phone").with_name("timeline-journey-card.png"))
    )

    # Only the comments.
    page.click("[data-testid=timeline-chip][data-kind=comment]")
    expect(page.locator("[data-testid=timeline-body][data-kinds=comment]")).to_be_attached()
    expect(events).to_have_count(3)
    assert {events.nth(i).get_attribute("data-kind") for i in range(3)} == {"comment"}
    expect(page.locator("[data-testid=timeline-more]")).to_have_count(0)

    # Everything again, then the older events.
    page.click("[data-testid=timeline-chip][data-kind='']")
    expect(page.locator("[data-testid=timeline-body][data-kinds='']")).to_be_attached()
    expect(events).to_have_count(20)
    page.click("[data-testid=timeline-more]")
    # 1 visit + 3 comments + 30 calls + the contact + the creation.
    expect(events).to_have_count(36)
    expect(page.locator("[data-testid=timeline-more]")).to_have_count(0)
    ids = [events.nth(i).get_attribute("data-event") for i in range(36)]
    assert len(set(ids)) == 36
    assert "第1次电话" in events.and_(page.locator("[data-kind=follow_up]")).last.inner_text()
    screenshot(page, "timeline-journey-loaded")
    assert console.errors == []
