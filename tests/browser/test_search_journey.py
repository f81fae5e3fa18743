"""Global search from the top bar: a rep types part of a name or a phone number, sees his
customers and contacts as he types, and opens one; customers of another unit stay hidden,
while the boss finds them. On a phone the search sits in the menu."""

import pytest
from playwright.sync_api import expect

from tuoke.customers.services import create_customer
from tuoke.org.defaults import ensure_default_roles

from .conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def customers(people):
    ensure_default_roles()
    mine = create_customer(
        by=people["rep_east1"],
        legal_name="深圳市腾达精密科技有限公司",
        short_name="腾达精密",
        contacts=[{"name": "王强", "mobile": "138 0013 8000", "title": "采购经理"}],
    )
    theirs = create_customer(
        by=people["rep_south1"],
        legal_name="广州腾达物流有限公司",
        short_name="腾达物流",
        contacts=[{"name": "黄丽", "mobile": "139 2000 1234"}],
        allow_similar=True,
    )
    return {"mine": mine, "theirs": theirs}


def _quick_results(page, query: str, field: str = "[data-testid=global-search]") -> str:
    """Type ``query`` and return the quick results once they are the ones for it."""
    page.fill(field, "")
    page.type(field, query, delay=30)
    results = page.locator("[data-testid=search-quick]").filter(
        has=page.locator("[data-testid=search-all]", has_text=query)
    )
    expect(results.first).to_be_visible()
    return results.first.inner_text()


def test_a_rep_finds_his_customer_and_contact_as_he_types_and_opens_one(
    people, customers, open_page
):
    page, console = open_page(locale="zh-CN")
    log_in(page, "rep_east1")

    shown = _quick_results(page, "腾达")
    assert "腾达精密" in shown
    assert "腾达物流" not in shown  # another unit's customer
    screenshot(page, "search-journey-quick-results")

    shown = _quick_results(page, "1380013")
    assert "王强" in shown and "腾达精密" in shown

    # The arrow keys walk the hits; Enter opens the customer.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/customers/{customers['mine'].pk}/**")
    assert "腾达精密" in page.content()

    # Enter in the search box opens all results.
    page.fill("[data-testid=global-search]", "tdjm")
    page.press("[data-testid=global-search]", "Enter")
    page.wait_for_url("**/search/?q=tdjm")
    results = page.locator("[data-testid=search-results]").inner_text()
    assert "腾达精密" in results and "腾达物流" not in results
    assert console.errors == []


def test_the_boss_finds_every_unit_s_customers(people, customers, open_page):
    page, console = open_page(locale="en-US")
    log_in(page, "boss")
    shown = _quick_results(page, "腾达")
    assert "腾达精密" in shown and "腾达物流" in shown
    page.locator("[data-testid=search-hit]", has_text="腾达物流").click()
    page.wait_for_url(f"**/customers/{customers['theirs'].pk}/")
    assert console.errors == []


def test_on_a_phone_the_search_in_the_menu_shows_quick_results(people, customers, open_page):
    page, console = open_page(viewport=PHONE, locale="zh-CN")
    log_in(page, "rep_east1")
    page.click("[data-testid=nav-toggle]")
    field = "[data-testid=global-search-mobile]"
    page.locator(field).wait_for(state="visible")
    shown = _quick_results(page, "王强", field)
    assert "王强" in shown
    hit = page.locator("#search-quick-mobile [data-testid=search-hit]").first
    box = hit.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"] and box["height"] >= 40
    screenshot(page, "search-journey-phone")
    hit.click()
    page.wait_for_url(f"**/customers/{customers['mine'].pk}/**")
    assert console.errors == []
