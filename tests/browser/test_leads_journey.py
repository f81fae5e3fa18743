"""A lead's way to a customer: marketing enters it from the website form's channel, the
round-robin rule gives it to a rep, and the rep opens it on his phone, converts it with an
opportunity from its needs, lands on that opportunity (its source lead shown) and follows it to
the new customer's page, which shows where the customer came from."""

import pytest
from playwright.sync_api import expect

from tuoke.leads import services
from tuoke.leads.models import Lead, LeadStatus

from .conftest import DESKTOP, PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_marketing_enters_a_lead_the_rule_assigns_it_and_the_rep_converts_it(people, open_page):
    marketing, rep = people["marketing1"], people["rep_east1"]
    website = services.create_channel(by=marketing, name="官网表单", kind="website")
    services.create_rule(by=marketing, name="官网轮转", channel=website, members=[rep])

    desk, desk_console = open_page(viewport=DESKTOP, locale="zh-CN")
    log_in(desk, "marketing1")
    desk.click("[data-nav=leads]")
    desk.click("[data-testid=lead-create]")
    desk.fill("#id_company_name", "深圳市腾达精密科技有限公司")
    desk.fill("#id_short_name", "腾达精密")
    desk.fill("#id_contact_name", "王强")
    desk.fill("#id_title", "采购经理")
    desk.fill("#id_mobile", "138 0013 8000")
    desk.fill("#id_needs", "年底前采购 20 台五轴加工中心")
    desk.select_option("#id_channel", label="官网表单")
    desk.click("[data-testid=save]")
    desk.wait_for_url("**/leads/*/")
    assert desk.locator("[data-testid=lead-owner]").inner_text() == "张伟"
    assert desk.locator("[data-testid=lead-channel]").inner_text() == "官网表单"
    history = desk.locator("[data-testid=audit-trail]").inner_text()
    assert "官网轮转" in history  # assigned by the rule, and the history says so
    screenshot(desk, "leads-journey-entered")

    phone, phone_console = open_page(viewport=PHONE, locale="zh-CN")
    log_in(phone, "rep_east1")
    phone.goto("/leads/")
    row = phone.locator("[data-testid=lead-row]", has_text="腾达精密")
    assert row.is_visible() and _no_horizontal_scroll(phone)
    screenshot(phone, "leads-journey-rep-list")
    row.locator("[data-testid=lead-link]").click()
    phone.wait_for_url("**/leads/*/")
    assert _no_horizontal_scroll(phone)
    phone.click("[data-testid=lead-convert-mobile]")
    phone.wait_for_url("**/convert/")
    assert phone.input_value("#id_short_name") == "腾达精密"
    assert phone.input_value("#id_contact_mobile") == "138 0013 8000"
    # The lead tells what they need: the opportunity box is ticked, its title from the needs.
    expect(phone.locator("[data-testid=with-opportunity]")).to_be_checked()
    expect(phone.locator("#id_opportunity_title")).to_have_value("年底前采购 20 台五轴加工中心")
    phone.locator("[data-testid=with-opportunity]").uncheck()
    expect(phone.locator("[data-testid=opportunity-fields]")).to_be_hidden()
    phone.locator("[data-testid=with-opportunity]").check()
    expect(phone.locator("[data-testid=opportunity-fields]")).to_be_visible()
    phone.fill("#id_opportunity_title", "五轴加工中心 20 台")
    phone.fill("#id_opportunity_amount", "1360000")
    phone.fill("#id_opportunity_expected_close_date", "2026-12-20")
    screenshot(phone, "leads-journey-convert")
    phone.click("[data-testid=convert]")
    phone.wait_for_url("**/opportunities/*/")
    assert phone.locator("[data-testid=opportunity-title]").inner_text() == "五轴加工中心 20 台"
    facts = phone.locator("dl", has=phone.locator("[data-fact=customer]"))
    source = facts.locator("dt", has_text="来源线索").locator("xpath=following-sibling::dd[1]")
    assert source.inner_text() == "腾达精密"
    assert _no_horizontal_scroll(phone)
    screenshot(phone, "leads-journey-opportunity")
    phone.locator("[data-fact=customer] a").click()
    phone.wait_for_url("**/customers/*/")
    assert phone.locator("[data-testid=customer-name]").inner_text() == "腾达精密"
    origin = phone.locator("[data-testid=customer-origin]")
    assert "官网表单" in origin.inner_text()
    assert _no_horizontal_scroll(phone)
    screenshot(phone, "leads-journey-customer")

    lead = Lead.objects.get(short_name="腾达精密")
    assert lead.status == LeadStatus.CONVERTED and lead.converted_customer.owner == rep
    opportunity = lead.opportunities.get()
    assert (opportunity.owner, opportunity.amount) == (rep, 1360000)
    assert desk_console.errors == [] and phone_console.errors == []


def test_marketing_cleans_a_flagged_duplicate_in_bulk_on_a_phone(people, open_page):
    marketing = people["marketing1"]
    services.create_lead(by=marketing, short_name="东方电气", mobile="13900139000")
    services.create_lead(by=marketing, short_name="东方电气集团", mobile="139 0013 9000")

    page, console = open_page(viewport=PHONE, locale="en-US")
    log_in(page, "marketing1")
    page.goto("/leads/?flagged=1")
    rows = page.locator("[data-testid=lead-row]")
    assert rows.count() == 1 and "东方电气集团" in rows.first.inner_text()
    rows.first.locator("[data-testid=lead-check]").check()
    page.select_option("[data-testid=bulk-action]", "clean")
    page.select_option("[data-testid=bulk-kind]", "duplicate")
    page.fill("[data-testid=bulk-reason]", "Same mobile as 东方电气")
    page.click("[data-testid=bulk-submit]")
    page.wait_for_url("**/leads/bulk/")
    assert "东方电气集团" in page.locator("[data-testid=bulk-leads]").inner_text()
    page.click("[data-testid=confirm]")
    page.wait_for_url("**/leads/?flagged=1")
    expect(page.locator("[data-testid=empty-state]")).to_be_visible()
    assert _no_horizontal_scroll(page)
    cleaned = Lead.objects.get(short_name="东方电气集团")
    assert (cleaned.status, cleaned.cleaning_kind) == ("cleaned", "duplicate")

    # The channel figures count the cleaned lead; a phone shows them as cards.
    page.goto("/leads/channels/")
    assert page.locator("[data-testid=channel-row]").count() == 0
    page.goto("/leads/channels/new/")
    page.fill("#id_name", "Website form")
    page.click("[data-testid=save]")
    page.wait_for_url("**/leads/channels/*/")
    page.click("[data-testid=cost-create]")
    page.fill("#id_amount", "1200")
    page.click("[data-testid=save]")
    page.wait_for_url("**/leads/channels/*/")
    assert page.locator("[data-testid=cost-row]").count() == 1
    assert _no_horizontal_scroll(page)
    screenshot(page, "leads-journey-channel")
    assert console.errors == []
