"""A sales manager opens the funnel for the first quarter: the bottleneck is highlighted with
its reason; he clicks a number and lands on exactly those opportunities; he clicks a segment
of the funnel chart and lands on that stage's; on a phone the page fits the screen. Then the
rep opens "close soon" and sees his deals ranked with the reasons."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.sales import funnel_data, records

from .conftest import DESKTOP, PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

Q1 = "/sales/funnel/?period=custom&start=2026-01-01&end=2026-03-31"


def test_a_manager_finds_the_bottleneck_and_drills_down(people, open_page):
    funnel_data.build(people)
    page, console = open_page(DESKTOP)
    log_in(page, "manager_east")

    page.goto(Q1)
    expect(page.locator("[data-testid=bottleneck]")).to_contain_text("方案报价")
    expect(page.locator("[data-testid=bottleneck-reason]")).to_contain_text("67%")
    row = page.locator("[data-testid=stage-row][data-stage=方案报价]")
    expect(row.locator("[data-testid=bottleneck-badge]")).to_be_visible()
    expect(page.locator("[data-testid=definitions]")).to_contain_text("Bottleneck")
    # The chart is drawn (ECharts puts a canvas in its box).
    expect(page.locator("[data-testid=funnel-chart] canvas")).to_have_count(1)
    screenshot(page, "funnel-journey-desktop")

    # A number → exactly its opportunities.
    reached = page.locator("[data-testid=stage-row][data-stage=需求确认] [data-testid=reached]")
    expect(reached).to_have_text("4")
    reached.click()
    page.wait_for_url("**/sales/funnel/records/**")
    expect(page.locator("[data-testid=records-count]")).to_contain_text("4 opportunities")
    expect(page.locator("[data-testid=record]")).to_have_count(4)
    expect(page.locator("[data-testid=records-table]")).to_contain_text("B 商机")
    expect(page.locator("[data-testid=records-table]")).not_to_contain_text("C 商机")
    link = page.locator("[data-testid=record-link]", has_text="A 商机")
    expect(link).to_have_attribute("href", f"/sales/opportunities/{_pk('A 商机')}/")
    screenshot(page, "funnel-journey-records")

    # A segment of the funnel chart → its stage's opportunities (the top one: 初步接洽, 5).
    page.locator("[data-testid=back-to-funnel]").click()
    chart = page.locator("[data-testid=funnel-chart]")
    expect(chart.locator("canvas")).to_have_count(1)
    box = chart.bounding_box()
    page.wait_for_timeout(800)  # the chart's entrance animation
    # ECharts leaves 60 px above and below the funnel; five segments share the rest.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 60 + (box["height"] - 120) / 10)
    page.wait_for_url("**/sales/funnel/records/**")
    expect(page.locator("[data-testid=record]")).to_have_count(5)
    assert console.errors == [], "\n".join(console.errors)


def test_the_funnel_fits_a_phone(people, open_page):
    funnel_data.build(people)
    page, console = open_page(PHONE)
    log_in(page, "rep_east1")
    page.goto(Q1)
    expect(page.locator("[data-testid=bottleneck]")).to_contain_text("方案报价")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"
    screenshot(page, "funnel-journey-phone")
    assert console.errors == [], "\n".join(console.errors)


def test_a_rep_sees_what_can_close_soon_and_why(people, open_page):
    data = funnel_data.build(people)
    rep = people["rep_east1"]
    hot = records.opportunity(rep, data["A"].customer, title="热门商机", stage_name="商务谈判")
    hot.expected_close_date = timezone.localdate() + timedelta(days=5)
    hot.last_activity_at = timezone.now() - timedelta(days=2)
    hot.save()
    page, console = open_page(PHONE)
    log_in(page, "rep_east1")
    page.goto(Q1)
    page.goto("/sales/close-soon/")
    first = page.locator("[data-testid=ranked]").first
    expect(first).to_contain_text("热门商机")
    expect(first.locator("[data-testid=reason]")).to_have_text(
        ["stage 商务谈判 80%", "active 2 days ago", "expected to close in 5 days"]
    )
    expect(page.locator("[data-testid=ranked]")).to_have_count(3)
    screenshot(page, "funnel-journey-close-soon")
    assert console.errors == [], "\n".join(console.errors)


def _pk(title: str) -> int:
    from tuoke.sales.models import Opportunity

    return Opportunity.objects.get(title=title).pk
