"""A rep on his phone logs a follow-up in three interactions from a link that names the
customer and the kind, and finds it on the customer's page; he checks in at a visit with his
location (and without it when the browser will not tell), completes it, and mentions a
colleague in a comment."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import CHROMIUM, PHONE, Console, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

SHANGHAI = {"latitude": 31.230416, "longitude": 121.473702, "accuracy": 20}


def _customer(people):
    from tuoke.customers.services import create_customer
    from tuoke.org.defaults import ensure_default_roles

    ensure_default_roles()
    return create_customer(
        by=people["rep_east1"], short_name="腾达精密", contacts=[{"name": "王强"}]
    )


def _no_sideways_scrolling(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"


@pytest.fixture
def phone(browser, live_server):
    """phone(**context options) → (page, console) on a phone-sized screen."""
    assert CHROMIUM
    contexts = []

    def _open(**options):
        context = browser.new_context(
            viewport=PHONE, locale="en-US", base_url=live_server.url, is_mobile=True, **options
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        return page, Console(page)

    yield _open
    for context in contexts:
        context.close()


def test_a_rep_logs_a_follow_up_in_three_interactions(people, phone):
    customer = _customer(people)
    page, console = phone()
    log_in(page, "rep_east1")

    # 1. He opens the link (as the Today page gives it): customer and kind are filled in.
    page.goto(f"/activities/follow-ups/new/?customer={customer.pk}&kind=wechat")
    expect(page.locator("[data-testid=kind-wechat]")).to_be_checked()
    expect(page.locator("[data-testid=subject]")).to_have_text("腾达精密")
    _no_sideways_scrolling(page)
    screenshot(page, "follow-up-journey-phone-form")
    # 2. He types what happened.
    page.locator("[data-testid=content]").fill("微信沟通了报价，客户下周给答复")
    # 3. He saves.
    page.locator("[data-testid=save]").click()

    page.wait_for_url(f"**/customers/{customer.pk}/")
    expect(page.locator(".alert-success")).to_contain_text("Follow-up logged")
    timeline = page.locator("[data-testid=timeline]")
    expect(timeline).to_contain_text("微信沟通了报价，客户下周给答复")
    screenshot(page, "follow-up-journey-customer-page")
    assert console.errors == [], "\n".join(console.errors)


def test_a_rep_checks_in_with_his_location_and_completes_the_visit(people, phone):
    from tuoke.activities.services import plan_visit

    customer = _customer(people)
    visit = plan_visit(
        by=people["rep_east1"],
        customer=customer,
        planned_at=timezone.now() + timedelta(minutes=30),
        purpose="演示新产品",
    )
    page, console = phone(geolocation=SHANGHAI, permissions=["geolocation"])
    log_in(page, "rep_east1")
    page.goto(f"/activities/visits/{visit.pk}/")
    page.locator("[data-testid=check-in]").click()

    place = page.locator("[data-testid=check-in-coordinates]")
    expect(place).to_have_text("31.230416, 121.473702")
    expect(page.locator("[data-testid=check-in-place]")).to_contain_text("± 20 m")
    expect(page.locator("[data-testid=check-in]")).to_have_count(0)
    screenshot(page, "follow-up-journey-checked-in")

    page.locator("[data-testid=content]").fill("演示顺利，王强认可方案")
    page.locator("[data-testid=next-date]").first.click()
    page.locator("[data-testid=complete]").click()
    expect(page.locator("[data-testid=visit-status]")).to_have_attribute("data-status", "done")
    expect(page.locator("[data-testid=visit-follow-up]")).to_contain_text("王强认可方案")
    _no_sideways_scrolling(page)
    assert console.errors == [], "\n".join(console.errors)


def test_without_the_location_the_rep_checks_in_all_the_same(people, phone):
    from tuoke.activities.services import plan_visit

    customer = _customer(people)
    visit = plan_visit(by=people["rep_east1"], customer=customer, planned_at=timezone.now())
    page, _console = phone()  # no permission: the browser does not tell where he is
    log_in(page, "rep_east1")
    page.goto(f"/activities/visits/{visit.pk}/")
    page.locator("[data-testid=check-in]").click()
    expect(page.locator(".alert-warning")).to_contain_text("without your location")
    expect(page.locator("[data-testid=check-in-no-place]")).to_be_visible()


def test_a_rep_mentions_a_colleague_in_a_comment(people, phone):
    from tuoke.core.models import Notification

    customer = _customer(people)
    page, console = phone()
    log_in(page, "rep_east1")
    page.goto(f"/customers/{customer.pk}/")
    body = page.locator("[data-testid=comment-body]")
    body.click()
    body.press_sequentially("明天一起去拜访 @刘")
    option = page.locator("[data-testid=mention-option]", has_text="刘洋")
    option.click()
    expect(body).to_have_value("明天一起去拜访 @刘洋 ")
    page.locator("[data-testid=comment-save]").click()

    comment = page.locator("[data-testid=comment]").first
    expect(comment.locator("[data-testid=mention]")).to_have_text("@刘洋")
    expect(body).to_have_value("")
    screenshot(page, "follow-up-journey-comment")
    assert Notification.objects.filter(recipient=people["rep_east2"], kind="mention").exists()
    assert console.errors == [], "\n".join(console.errors)
