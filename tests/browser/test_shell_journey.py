"""A rep's first look around: log in, open every navigation entry, on a desktop and a phone,
in Chinese and in English, without a console error."""

import pytest

from .conftest import DESKTOP, PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

CASES = [
    ("zh-CN", "zh-hans", DESKTOP, "desktop"),
    ("zh-CN", "zh-hans", PHONE, "phone"),
    ("en-US", "en", DESKTOP, "desktop"),
    ("en-US", "en", PHONE, "phone"),
]


@pytest.mark.parametrize(("locale", "lang", "viewport", "device"), CASES)
def test_it_lets_a_rep_open_every_navigation_entry(
    people, open_page, locale, lang, viewport, device
):
    page, console = open_page(viewport=viewport, locale=locale)
    log_in(page, "rep_east1")
    assert page.locator("html").get_attribute("lang") == lang
    assert "张伟" in page.content()
    home_label = "首页" if lang == "zh-hans" else "Home"
    entries = page.locator("[data-nav]")
    keys = [entries.nth(i).get_attribute("data-nav") for i in range(entries.count())]
    assert "home" in keys, keys
    for key in keys:
        if device == "phone":
            # The sidebar is a collapsed menu on a phone: open it, then tap the entry.
            assert not page.locator(f"[data-nav={key}]").is_visible()
            page.click("[data-testid=nav-toggle]")
            # Wait for Bootstrap's collapse to finish opening before tapping.
            page.locator("#sidebar-menu.show:not(.collapsing)").wait_for()
        link = page.locator(f"[data-nav={key}]")
        link.wait_for(state="visible")
        link.click()
        page.wait_for_load_state("load")
        assert page.locator(f"[data-nav={key}][aria-current=page]").count() == 1, key
        assert page.locator("h2.page-title").first.is_visible(), key
        # No horizontal scrolling on a phone.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{key} scrolls sideways by {overflow}px"
        screenshot(page, f"shell-{lang}-{device}-{key}")
    page.goto("/")
    if device == "phone":
        page.click("[data-testid=nav-toggle]")
        page.locator("#sidebar-menu.show:not(.collapsing)").wait_for()
    assert page.locator("[data-nav=home]").inner_text().strip() == home_label
    assert console.errors == []


def test_it_switches_language_and_logs_out(people, open_page):
    page, console = open_page(locale="en-US")
    log_in(page, "rep_east1")
    assert page.locator("html").get_attribute("lang") == "en"
    page.locator("[data-testid=language-switch] button[value=zh-hans]").first.click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.click("[data-testid=user-menu]")
    page.locator("[data-testid=logout]:visible").click()
    page.wait_for_url("**/login/**")
    assert page.locator("#id_username").is_visible()
    assert console.errors == []


def test_it_refuses_a_wrong_password_with_a_clear_message(people, open_page):
    page, _console = open_page(locale="en-US")
    page.goto("/login/")
    page.fill("#id_username", "rep_east1")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert page.locator("[data-testid=login-error]").is_visible()
