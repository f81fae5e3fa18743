"""A rep enters a customer, is stopped when he enters it again under another spelling, fixes a
mistyped credit code and adds a contact; a rep of another unit finds the customer only by
name and owner, asks for access and gets it from the owner; and a customer is created on a
phone in a few taps."""

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _check(body: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True))
    return body + alphabet[(31 - total % 31) % 31]


CODE = _check("91440300708461136")
WRONG_CODE = CODE[:-1] + ("0" if CODE[-1] != "0" else "1")


def _no_sideways_scrolling(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"


def test_a_rep_enters_a_customer_and_the_duplicate_check_guards_it(people, open_page):
    page, console = open_page(locale="en-US")
    log_in(page, "rep_east1")

    # A new customer with its first contact.
    page.goto("/customers/new/")
    page.fill("#id_short_name", "腾讯")
    page.fill("#id_legal_name", "深圳市腾讯计算机系统有限公司")
    page.fill("#id_credit_code", CODE)
    page.fill("#id_contact_name", "马先生")
    page.fill("#id_contact_mobile", "138 0013 8000")
    page.check("#id_contact_is_key_person")
    page.locator("[data-testid=duplicates][data-blocking=false]").wait_for(state="attached")
    screenshot(page, "customer-journey-create")
    page.click("[data-testid=save]")
    page.wait_for_url("**/customers/*/")
    assert page.locator("[data-testid=customer-name]").inner_text() == "腾讯"
    assert page.locator("[data-testid=contact-row]").count() == 1
    expect(page.locator("[data-testid=kp]")).to_be_visible()
    customer_url = page.url

    # The same company under a traditional, bracketed spelling is stopped while typing.
    page.goto("/customers/new/")
    page.fill("#id_legal_name", "騰訊計算機系統（深圳）有限公司")
    same = page.locator("[data-testid=duplicate-same]")
    same.wait_for()
    assert "腾讯" in same.inner_text()
    assert same.locator("[data-testid=duplicate-open]").get_attribute("href") in customer_url
    assert page.locator("[data-testid=save]").is_disabled()
    expect(page.locator("[data-testid=blocked-hint]")).to_be_visible()
    screenshot(page, "customer-journey-duplicate-blocked")

    # A mistyped credit code is pointed out while typing, and refused on saving.
    page.goto("/customers/new/")
    page.fill("#id_short_name", "云栖科技")
    page.fill("#id_credit_code", WRONG_CODE)
    error = page.locator("[data-testid=credit-code-error]")
    error.wait_for()
    assert "should be" in error.inner_text()
    page.click("[data-testid=save]")
    page.wait_for_load_state("load")
    expect(page.locator("[data-field-error=credit_code]")).to_be_visible()
    screenshot(page, "customer-journey-wrong-credit-code")
    page.fill("#id_credit_code", "")
    page.locator("[data-testid=credit-code-error]").wait_for(state="detached")

    # A second contact on the customer page.
    page.goto(customer_url)
    page.click("[data-testid=contact-add]")
    page.fill("#id_name", "张经理")
    page.fill("#id_title", "采购经理")
    page.fill("#id_mobile", "13900001111")
    page.fill("#id_email", "Zhang@Tencent.com")
    page.click("[data-testid=save]")
    page.wait_for_url(f"{customer_url}#contacts")
    row = page.locator("[data-testid=contact-row][data-name=张经理]")
    assert "139 0000 1111" in row.inner_text() and "zhang@tencent.com" in row.inner_text()
    screenshot(page, "customer-journey-customer-page")
    assert console.errors == [], "\n".join(console.errors)


def test_a_rep_of_another_unit_asks_for_access_and_the_owner_grants_it(people, open_page):
    owner, owner_console = open_page(locale="en-US")
    log_in(owner, "rep_east1")
    owner.goto("/customers/new/")
    owner.fill("#id_short_name", "腾讯")
    owner.fill("#id_legal_name", "深圳市腾讯计算机系统有限公司")
    owner.fill("#id_credit_code", CODE)
    owner.locator("[data-testid=duplicates]").wait_for(state="attached")
    owner.click("[data-testid=save]")
    owner.wait_for_url("**/customers/*/")
    customer_url = owner.url

    other, other_console = open_page(locale="en-US")
    log_in(other, "rep_south1")
    other.goto("/customers/new/")
    other.fill("#id_legal_name", "腾讯计算机系统有限公司")
    same = other.locator("[data-testid=duplicate-same]")
    same.wait_for()
    candidate = same.locator("[data-testid=duplicate-candidate]")
    assert candidate.get_attribute("data-visible") == "false"
    assert candidate.locator("[data-testid=duplicate-name]").inner_text() == "腾讯"
    assert "张伟" in candidate.locator("[data-testid=duplicate-owner]").inner_text()
    assert same.locator("a[data-testid=duplicate-open]").count() == 0
    assert CODE not in other.content() and "深圳市腾讯计算机系统有限公司" not in other.content()
    screenshot(other, "customer-journey-outsider-sees-name-and-owner")
    candidate.locator("[data-testid=ask-access]").click()
    other.wait_for_url("**/access-requests/new/**")
    assert other.locator("[data-testid=request-customer]").inner_text() == "腾讯"
    other.fill("#id_message", "客户主动联系了我们华南团队")
    other.click("[data-testid=save]")
    other.wait_for_url("**/access-requests/")
    assert other.locator("[data-testid=my-request-status]").inner_text() == "Pending"

    owner.goto(customer_url)
    request = owner.locator("[data-testid=access-request][data-requester=rep_south1]")
    assert "客户主动联系了我们华南团队" in request.inner_text()
    screenshot(owner, "customer-journey-owner-sees-request")
    request.locator("[data-testid=grant]").click()
    owner.wait_for_url(customer_url)
    expect(owner.locator("[data-testid=collaborator][data-username=rep_south1]")).to_be_visible()

    other.reload()
    assert other.locator("[data-testid=my-request-status]").inner_text() == "Granted"
    other.click("[data-testid=my-request-open]")
    other.wait_for_url(customer_url)
    assert other.locator("[data-testid=customer-name]").inner_text() == "腾讯"
    screenshot(other, "customer-journey-outsider-granted")
    assert owner_console.errors == [] and other_console.errors == []


def test_a_rep_creates_a_customer_on_his_phone(people, open_page):
    page, console = open_page(viewport=PHONE, locale="zh-CN")
    log_in(page, "rep_east2")
    page.goto("/customers/new/quick/")
    _no_sideways_scrolling(page)
    page.fill("#id_name", "苏州精工机械有限公司")
    page.fill("#id_contact_name", "周工")
    page.fill("#id_contact_mobile", "139 1234 5678")
    page.locator("[data-testid=duplicates]").wait_for(state="attached")
    save = page.locator("[data-testid=save]")
    box = save.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
    screenshot(page, "customer-journey-quick-create-phone")
    save.click()
    page.wait_for_url("**/customers/*/")
    assert page.locator("[data-testid=customer-name]").inner_text() == "苏州精工机械有限公司"
    assert "139 1234 5678" in page.locator("[data-testid=contact-row]").inner_text()
    _no_sideways_scrolling(page)
    screenshot(page, "customer-journey-customer-page-phone")
    assert console.errors == [], "\n".join(console.errors)
