"""The customer list in a browser: a rep filters his customers, sorts them, chooses his
columns, saves the view and finds it again the next time; a manager tags two customers of his
team at once and transfers them with a reason; the list on a phone shows cards, not a wide
table."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tuoke.core.services import create_record
from tuoke.customers.models import Customer, Tag
from tuoke.customers.services import create_customer

from .conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _no_sideways_scrolling(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"


def _names(page) -> list[str]:
    return page.locator("[data-testid=customer-row]").evaluate_all(
        "rows => rows.map(r => r.dataset.name)"
    )


def _wait_for_results(page, expected: list[str]) -> None:
    page.wait_for_function(
        "names => JSON.stringify([...document.querySelectorAll('[data-testid=customer-row]')]"
        ".map(r => r.dataset.name)) === JSON.stringify(names)",
        arg=expected,
    )


@pytest.fixture
def book(people):
    """rep_east1's and rep_east2's customers (华东销售组), and one of 华南."""
    rep, rep2 = people["rep_east1"], people["rep_east2"]
    facts = [
        (rep, "腾讯科技", "intent", "广东", "互联网"),
        (rep, "阿里巴巴", "intent", "浙江", "电子商务"),
        (rep, "百度在线", "intent", "北京", "互联网"),
        (rep, "华信电子", "potential", "上海", "电子"),
        (rep2, "金龙机械", "potential", "江苏", "机械"),
        (people["rep_south1"], "南方客户", "intent", "广东", "制造"),
    ]
    made = {}
    for owner, name, status, province, industry in facts:
        customer = create_customer(by=owner, short_name=name, province=province, industry=industry)
        Customer.objects.filter(pk=customer.pk).update(
            lifecycle_status=status, last_follow_up_at=timezone.now()
        )
        made[name] = customer
    create_record(Tag, by=rep, name="重点客户")
    return made


def test_a_rep_filters_sorts_chooses_columns_and_saves_a_view(people, book, open_page):
    page, console = open_page(locale="en-US")
    log_in(page, "rep_east1")
    page.goto("/customers/")
    assert sorted(_names(page)) == ["华信电子", "百度在线", "腾讯科技", "阿里巴巴"]

    # Filter: the results change in place and the address follows, so it can be shared.
    page.select_option("[data-testid=filter-status]", "intent")
    assert sorted(_names_after(page, 3)) == sorted(["阿里巴巴", "百度在线", "腾讯科技"])
    page.wait_for_url(re.compile(r"status=intent"))

    # Sort by name: pinyin order, then the other way round.
    page.click("[data-sort=name]")
    _wait_for_results(page, ["阿里巴巴", "百度在线", "腾讯科技"])
    assert "sort=name" in page.url
    page.click("[data-sort=name]")
    _wait_for_results(page, ["腾讯科技", "百度在线", "阿里巴巴"])
    page.click("[data-sort=name]")
    _wait_for_results(page, ["阿里巴巴", "百度在线", "腾讯科技"])

    # Columns: hide the status, show the industry first.
    page.click("[data-testid=choose-columns]")
    columns = page.locator("[data-testid=columns-form]")
    columns.locator("[data-column=status] input").uncheck()
    industry = columns.locator("[data-column=industry]")
    industry.locator("input").check()
    for _ in range(10):
        industry.locator("[data-testid=column-up]").click()
    columns.locator("[data-testid=columns-apply]").click()
    page.wait_for_url(re.compile(r"cols=industry%2C"))
    headers = page.locator("thead th[data-column]").evaluate_all(
        "cells => cells.map(c => c.dataset.column)"
    )
    assert headers[:2] == ["name", "industry"] and "status" not in headers
    assert _names(page) == ["阿里巴巴", "百度在线", "腾讯科技"]
    screenshot(page, "customer-list-journey-columns")

    # Save the view and make it the one the list opens with.
    page.click("[data-testid=save-view]")
    page.fill("[data-testid=view-name]", "My intent customers")
    page.check("[data-testid=view-default]")
    page.click("[data-testid=view-save]")
    page.wait_for_url(re.compile(r"view=\d+"))
    assert page.locator("[data-testid=current-view]").inner_text() == "My intent customers"

    # Another day: "All customers" first, then the view from the menu; and the bare list
    # opens with it by default.
    page.goto("/customers/?view=all")
    assert len(_names(page)) == 4
    page.click("[data-testid=views-menu]")
    page.click("[data-testid=view-option][data-name='My intent customers']")
    page.wait_for_url(re.compile(r"view=\d+"))
    assert _names(page) == ["阿里巴巴", "百度在线", "腾讯科技"]
    page.goto("/customers/")
    assert page.locator("[data-testid=current-view]").inner_text() == "My intent customers"
    assert _names(page) == ["阿里巴巴", "百度在线", "腾讯科技"]
    headers = page.locator("thead th[data-column]").evaluate_all(
        "cells => cells.map(c => c.dataset.column)"
    )
    assert headers[:2] == ["name", "industry"]
    assert console.errors == []


def _names_after(page, count: int) -> list[str]:
    """The names once the list shows ``count`` rows (their order is not the point)."""
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=customer-row]').length === n", arg=count
    )
    return _names(page)


def test_a_manager_tags_and_transfers_two_customers_at_once(people, book, open_page):
    page, console = open_page(locale="en-US")
    log_in(page, "manager_east")
    page.goto("/customers/?view=all&sort=name")
    assert _names(page) == ["阿里巴巴", "百度在线", "华信电子", "金龙机械", "腾讯科技"]

    # "All on this page" ticks every row, and unticks them again.
    page.check("[data-testid=select-page]")
    assert page.locator("[data-testid=selected-count]").inner_text() == "5 selected"
    page.uncheck("[data-testid=select-page]")
    expect(page.locator("[data-testid=bulk-form]")).to_be_hidden()

    # Tag two customers: confirm first, then the list says what happened.
    for name in ("阿里巴巴", "百度在线"):
        page.locator(
            f"[data-testid=customer-row][data-name='{name}'] [data-testid=select-row]"
        ).check()
    expect(page.locator("[data-testid=bulk-form]")).to_be_visible()
    page.select_option("[data-testid=bulk-action]", "add_tag")
    page.select_option("[data-testid=bulk-tag]", label="重点客户")
    page.click("[data-testid=bulk-continue]")
    page.wait_for_url("**/customers/bulk/")
    assert page.locator("[data-testid=changeable-customer]").count() == 2
    page.click("[data-testid=confirm]")
    page.wait_for_url(re.compile(r"/customers/\?"))
    assert "added to 2 customers" in page.locator(".alert-success").inner_text()
    tagged = Customer.objects.filter(tags__name="重点客户")
    assert sorted(c.short_name for c in tagged) == ["百度在线", "阿里巴巴"]

    # Transfer the same two to rep_east2, with a reason.
    for name in ("阿里巴巴", "百度在线"):
        page.locator(
            f"[data-testid=customer-row][data-name='{name}'] [data-testid=select-row]"
        ).check()
    page.select_option("[data-testid=bulk-action]", "transfer")
    page.select_option("[data-testid=bulk-to-user]", str(people["rep_east2"].pk))
    page.fill("[data-testid=bulk-reason]", "张伟调往华南，客户交接给刘洋")
    page.click("[data-testid=more-filters]")
    screenshot(page, "customer-list-journey-bulk")
    page.click("[data-testid=bulk-continue]")
    page.wait_for_url("**/customers/bulk/")
    screenshot(page, "customer-list-journey-confirm")
    page.click("[data-testid=confirm]")
    page.wait_for_url(re.compile(r"/customers/\?"))
    assert "2 customers transferred" in page.locator(".alert-success").inner_text()
    owners = dict(Customer.objects.values_list("short_name", "owner__username"))
    assert owners["阿里巴巴"] == owners["百度在线"] == "rep_east2"
    assert owners["腾讯科技"] == "rep_east1"
    assert console.errors == []


def test_the_list_reads_as_cards_on_a_phone(people, book, open_page):
    page, console = open_page(viewport=PHONE, locale="zh-CN")
    log_in(page, "rep_east1")
    page.goto("/customers/?view=all&sort=name")
    assert page.locator("[data-testid=customer-row]").count() == 4
    expect(page.locator("thead").first).to_be_hidden()
    _no_sideways_scrolling(page)
    page.fill("[data-testid=customer-search]", "bdzx")
    _wait_for_results(page, ["百度在线"])
    assert "q=bdzx" in page.url
    _no_sideways_scrolling(page)
    expect(page.locator("[data-testid=customer-create-mobile]")).to_be_visible()
    screenshot(page, "customer-list-journey-phone")
    assert console.errors == []
