"""The boss opens the receivables on 2026-06-30: the bucket totals are the hand count of
tests/contracts/test_queries.py; he clicks the over-90-days figure and a rep's figure and
lands on exactly their contracts; he opens the renewals, sees what ends soon and the third
quarter's renewal figures, and follows one to its contracts. The rep renews his contract
ending soon; on a phone the receivables fit the screen."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.contracts import records
from tests.contracts.test_queries import build_book, build_renewals

from .conftest import DESKTOP, PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = "/contracts/receivables/?as_of=2026-06-30"


def _numbers(page) -> set[str]:
    rows = page.locator("[data-testid=receivable-row]")
    return {rows.nth(i).get_attribute("data-number") for i in range(rows.count())}


def _soon(people):
    """A contract of rep_east1 ending in ten days (the renewal list is about today)."""
    return records.contract(
        people["rep_east1"],
        records.customer(people["rep_east1"], "东方机械"),
        number="HT-SOON",
        title="年度维保合同",
        amount="36000",
        ends_on=timezone.localdate() + timedelta(days=10),
    )


def test_the_boss_reads_the_receivables_and_renewals_and_drills_down(people, open_page):
    build_book(people)
    page, console = open_page(DESKTOP)
    log_in(page, "boss")

    page.goto(AS_OF)
    expect(page.locator("[data-testid=figure-total]")).to_have_text("¥363,800.00")
    buckets = page.locator("[data-testid=figure-bucket]")
    expect(buckets).to_have_text(["¥100,000.00", "¥58,800.00", "¥40,000.00", "¥165,000.00"])
    expect(page.locator("[data-testid=ageing-chart] canvas")).to_have_count(1)
    expect(page.locator("[data-testid=receivable-row]")).to_have_count(6)
    unit = page.locator("[data-testid=unit-row][data-name=华东销售组]")
    expect(unit.locator("[data-testid=group-total]")).to_have_text("¥183,800.00")
    screenshot(page, "receivables-journey-desktop")

    # The over-90-days figure → exactly its two contracts.
    page.locator("[data-testid=figure-bucket][data-bucket=over_90]").click()
    page.wait_for_url("**bucket=over_90**")
    expect(page.locator("[data-testid=list-title]")).to_have_text("Over 90 days overdue")
    expect(page.locator("[data-testid=receivable-row]")).to_have_count(2)
    assert _numbers(page) == {"HT-E1-001", "HT-S1-001"}

    # A rep's 1–30 days figure (刘洋: ¥38,800) → his two contracts, the cards narrowed to him.
    page.goto(AS_OF)
    rep = page.locator("[data-testid=owner-row][data-name=rep_east2]")
    figure = rep.locator("[data-testid=group-figure]", has_text="¥38,800.00")
    figure.click()
    page.wait_for_url("**bucket=1_30**")
    expect(page.locator("[data-testid=receivable-row]")).to_have_count(2)
    assert _numbers(page) == {"HT-E2-001", "HT-E2-002"}
    expect(page.locator("[data-testid=figure-total]")).to_have_text("¥58,800.00")

    # The oldest overdue first.
    page.locator("[data-testid=order-oldest]").click()
    page.wait_for_url("**order=oldest**")
    expect(page.locator("[data-testid=receivable-row]").first).to_have_attribute(
        "data-number", "HT-E2-002"
    )

    # Renewals: what ends soon, and the third quarter's figures (made now: their contracts,
    # unpaid, would be receivables too).
    build_renewals(people)
    _soon(people)
    page.goto("/contracts/renewals/?day=2026-08-01")
    expect(page.locator("[data-testid=ending-row]")).to_have_count(1)
    expect(page.locator("[data-testid=ending-row]")).to_contain_text("HT-SOON")
    expect(page.locator("[data-testid=figure-due]")).to_have_text("6")
    expect(page.locator("[data-testid=figure-renewed]")).to_have_text("3")
    expect(page.locator("[data-testid=figure-rate-count]")).to_have_text("50.0%")
    expect(page.locator("[data-testid=figure-rate-amount]")).to_have_text("46.8%")
    page.locator("[data-testid=figure-not-renewed]").click()
    page.wait_for_url("**show=not_renewed**")
    rows = page.locator("[data-testid=renewal-row]")
    expect(rows).to_have_count(3)
    numbers = {rows.nth(i).get_attribute("data-number") for i in range(3)}
    assert numbers == {"HT-D2", "HT-D5", "HT-D10"}
    screenshot(page, "renewals-journey-desktop")
    assert console.errors == [], "\n".join(console.errors)


def test_a_rep_renews_a_contract_ending_soon(people, open_page):
    soon = _soon(people)
    page, console = open_page(DESKTOP)
    log_in(page, "rep_east1")
    page.goto("/contracts/renewals/")
    row = page.locator("[data-testid=ending-row][data-number=HT-SOON]")
    expect(row).to_contain_text("in 10 days")
    row.locator("[data-testid=renew]").click()
    page.wait_for_url(lambda url: "/renewals/" not in url)
    renewal = soon.renewals.get()
    assert renewal.status == "draft" and renewal.owner == people["rep_east1"]
    page.goto("/contracts/renewals/")
    expect(page.locator("[data-testid=empty-state]")).to_be_visible()
    assert console.errors == [], "\n".join(console.errors)


def test_the_receivables_fit_a_phone(people, open_page):
    build_book(people)
    page, console = open_page(PHONE)
    log_in(page, "boss")
    page.goto(AS_OF)
    expect(page.locator("[data-testid=figure-total]")).to_have_text("¥363,800.00")
    expect(page.locator("[data-testid=receivable-row]").first).to_be_visible()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"
    screenshot(page, "receivables-journey-phone")
    page.goto("/contracts/renewals/?day=2026-08-01")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the renewals page scrolls sideways by {overflow}px"
    assert console.errors == [], "\n".join(console.errors)
