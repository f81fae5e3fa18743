"""A rep opens Tuoke on his phone in the morning: his home is the Today page with the plan
made for him (a customer due by cadence, an overdue task). He taps "Log" on the customer's
task, types what happened and saves: three interactions, and the task is done. He ticks the
other task off with one tap. His manager sees the team's day and opens the rep's plan."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _plan(people):
    from tuoke.activities import plan
    from tuoke.customers.models import Customer
    from tuoke.customers.services import create_customer
    from tuoke.org.defaults import ensure_default_roles

    ensure_default_roles()
    rep = people["rep_east1"]
    due = create_customer(by=rep, short_name="腾达精密", contacts=[{"name": "王强"}])
    Customer.all_objects.filter(pk=due.pk).update(
        tier="A", last_follow_up_at=timezone.now() - timedelta(days=12)
    )
    fresh = create_customer(by=rep, short_name="云栖科技")
    Customer.all_objects.filter(pk=fresh.pk).update(last_follow_up_at=timezone.now())
    plan.create_task(
        by=rep, title="寄送样品", due_on=timezone.localdate() - timedelta(days=1), customer=fresh
    )
    plan.generate_plan()
    return due


def _no_sideways_scrolling(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"


def test_a_rep_works_his_plan_on_a_phone(people, open_page):
    customer = _plan(people)
    page, console = open_page(PHONE)
    log_in(page, "rep_east1")

    # His home is the Today page: the date, the overdue task, the customer due by cadence.
    page.goto("/")
    expect(page.locator("[data-testid=today-date]")).not_to_be_empty()
    overdue = page.locator("[data-testid=group-overdue] [data-testid=task]")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text("寄送样品")
    expect(overdue).to_contain_text("1 day overdue")
    today = page.locator("[data-testid=group-today] [data-testid=task]")
    expect(today).to_have_count(1)
    expect(today).to_contain_text("Regular follow-up")
    expect(today).to_contain_text("腾达精密")
    expect(today).to_contain_text("last follow-up 12 days ago")
    expect(page.locator("[data-testid=untouched-customer]").first).to_contain_text("腾达精密")
    # The main action sits at the bottom, within the thumb's reach.
    actions = page.locator("[data-testid=today-actions]")
    expect(actions).to_be_visible()
    _no_sideways_scrolling(page)
    screenshot(page, "today-journey-phone-plan")

    # 1. He taps "Log" on the customer's task: customer, kind and task are filled in.
    today.locator("[data-testid=task-log]").click()
    page.wait_for_url("**/activities/follow-ups/new/**")
    expect(page.locator("[data-testid=subject]")).to_have_text("腾达精密")
    expect(page.locator("[data-testid=kind-call]")).to_be_checked()
    expect(page.locator("[data-testid=from-task]")).to_be_visible()
    screenshot(page, "today-journey-phone-log")
    # 2. He types what happened.
    page.locator("[data-testid=content]").fill("电话回访，客户下周来厂参观")
    # 3. He saves, and is back on his plan with the task done.
    page.locator("[data-testid=save]").click()
    page.wait_for_url(lambda url: url.rstrip("/").endswith(("/activities/today", "")))
    expect(page.locator("[data-testid=group-done] [data-testid=task]")).to_contain_text(
        "Regular follow-up"
    )
    expect(page.locator("[data-testid=group-today] [data-testid=task]")).to_have_count(0)
    expect(page.locator("[data-testid=count-done]")).to_have_text("1")

    # One tap ticks the overdue task off, in place.
    row = page.locator("[data-testid=group-overdue] [data-testid=task]")
    row.locator("[data-testid=task-done]").click()
    expect(page.locator("[data-testid=group-overdue] [data-testid=task]")).to_have_attribute(
        "data-done", "true"
    )
    page.reload()
    expect(page.locator("[data-testid=group-overdue]")).to_have_count(0)
    expect(page.locator("[data-testid=group-done] [data-testid=task]")).to_have_count(2)
    screenshot(page, "today-journey-phone-done")

    from tuoke.activities.models import FollowUp, Task

    assert not Task.objects.filter(owner=people["rep_east1"], done_at__isnull=True).exists()
    follow_up = FollowUp.objects.get(customer=customer)
    assert Task.objects.get(source="cadence").done_with == follow_up
    assert console.errors == [], "\n".join(console.errors)


def test_a_manager_sees_his_teams_day(people, open_page):
    _plan(people)
    page, console = open_page(DESKTOP)
    log_in(page, "manager_east")

    page.goto("/activities/team/")
    row = page.locator("[data-testid=team-row]", has_text="张伟")
    expect(row.locator("[data-testid=open]")).to_have_text("2")
    expect(row.locator("[data-testid=overdue]")).to_have_text("1")
    expect(row.locator("[data-testid=completion]")).to_contain_text("0%")
    screenshot(page, "today-journey-team")

    row.locator("[data-testid=team-member-link]").click()
    expect(page.locator("[data-testid=group-today]")).to_contain_text("腾达精密")
    # His view of a rep's plan is read-only.
    expect(page.locator("[data-testid=task-done]")).to_have_count(0)
    expect(page.locator("[data-testid=task-log]")).to_have_count(0)
    assert console.errors == [], "\n".join(console.errors)
