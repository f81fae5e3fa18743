"""A manager sets up his unit's WeCom group robot and tries it; a mention of a rep then
reaches the fake robot (with his mobile) and the rep's bell on his phone, where he opens it,
lands on the record and finds it read; the rest he marks read from the list."""

import pytest
from playwright.sync_api import expect

from tests.integrations.conftest import FakeRobot
from tuoke.celery import app
from tuoke.core.notifications import notify
from tuoke.integrations.models import Delivery

from .conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wecom():
    fake = FakeRobot("wecom")
    yield fake
    fake.stop()


@pytest.fixture
def jobs_in_process():
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _no_sideways_scrolling(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"


def test_a_mention_reaches_the_group_robot_and_the_reps_bell(
    people, open_page, wecom, jobs_in_process
):
    rep = people["rep_east1"]
    rep.mobile = "+8613800138000"
    rep.save(update_fields=["mobile"])

    # The manager adds his unit's group robot from the unit page and tries it.
    manager, manager_console = open_page(locale="en-US")
    log_in(manager, "manager_east")
    manager.goto(f"/org/units/{rep.unit_id}/")
    manager.click("[data-testid=unit-robots]")
    manager.wait_for_url("**/notifications/channels/?unit=*")
    manager.locator("[data-testid=unit-robots] [data-testid=add-wecom]").click()
    manager.fill("#id_name", "华东销售群")
    manager.fill("#id_webhook_url", wecom.url)
    manager.click("[data-testid=save]")
    manager.wait_for_url("**/notifications/channels/?unit=*")
    row = manager.locator("[data-testid=channel][data-name=华东销售群]")
    assert "…7781" in row.inner_text() and "wecom-key" not in manager.content()
    row.locator("[data-testid=channel-test]").click()
    manager.wait_for_load_state("load")
    expect(manager.locator(".alert-success")).to_contain_text("was sent")
    assert wecom.problems == [] and len(wecom.received) == 1
    screenshot(manager, "notifications-journey-unit-robot")
    # The test message is logged, already read: the manager's bell stays quiet.
    manager.locator("[data-testid=bell] [data-testid=bell-toggle]").click()
    item = manager.locator("[data-testid=bell] [data-testid=bell-item]")
    expect(item).to_have_count(1)
    assert item.get_attribute("data-unread") == "false" and "Test message" in item.inner_text()
    expect(manager.locator("[data-testid=bell] [data-testid=bell-badge]")).to_have_count(0)
    manager.goto("/notifications/deliveries/")
    expect(manager.locator("[data-testid=delivery][data-status=sent]")).to_have_count(1)
    assert manager_console.errors == [], "\n".join(manager_console.errors)

    # A colleague mentions the rep (as a comment would): in the app and in the group chat.
    customer_url = "/notifications/deliveries/"
    notify(
        [rep],
        kind="mention",
        title="王经理在“腾达精密”提到了你",
        body="@张伟 请今天回电确认报价",
        url=customer_url,
        actor=people["manager_east"],
    )
    notify([rep], kind="task", title="新任务：拜访腾达精密", actor=people["manager_east"])
    assert wecom.problems == []
    assert wecom.mentioned() == ["+8613800138000"]
    assert "王经理在“腾达精密”提到了你" in wecom.content(-2)
    assert set(
        Delivery.objects.filter(notification__recipient=rep).values_list("status", flat=True)
    ) == {"sent"}

    # On his phone the bell shows two; he opens it and follows the mention.
    page, console = open_page(viewport=PHONE, locale="en-US")
    log_in(page, "rep_east1")
    page.goto("/account/")
    bell = page.locator("[data-testid=bell-mobile]")
    expect(bell.locator("[data-testid=bell-badge]")).to_have_text("2")
    bell.locator("[data-testid=bell-toggle]").click()
    items = bell.locator("[data-testid=bell-item]")
    expect(items).to_have_count(2)
    assert items.first.get_attribute("data-unread") == "true"
    menu = bell.locator("[data-testid=bell-menu]").bounding_box()
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= PHONE["width"]
    _no_sideways_scrolling(page)
    screenshot(page, "notifications-journey-bell-phone")
    bell.locator("[data-testid=bell-item]", has_text="提到了你").click()
    page.wait_for_url(f"**{customer_url}")
    expect(page.locator("[data-testid=bell-mobile] [data-testid=bell-badge]")).to_have_text("1")

    # The rest from the list: marked read, the bell goes quiet.
    page.goto("/notifications/")
    unread = page.locator("[data-testid=notification][data-unread=true]")
    expect(unread).to_have_count(1)
    unread.locator("[data-testid=mark-read]").click()
    expect(page.locator("[data-testid=notification][data-unread=true]")).to_have_count(0)
    expect(page.locator("[data-testid=bell-mobile] [data-testid=bell-badge]")).to_have_count(0)
    _no_sideways_scrolling(page)
    screenshot(page, "notifications-journey-list-phone")
    assert console.errors == [], "\n".join(console.errors)

    # On a desktop the top bar's bell counts the same.
    notify([rep], kind="task", title="新任务：寄样品", actor=people["manager_east"])
    desktop, desktop_console = open_page(locale="en-US")
    log_in(desktop, "rep_east1")
    desktop.goto("/notifications/")
    expect(desktop.locator("[data-testid=bell] [data-testid=bell-badge]")).to_have_text("1")
    assert desktop_console.errors == [], "\n".join(desktop_console.errors)
