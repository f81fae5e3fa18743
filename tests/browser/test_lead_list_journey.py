"""The lead list in a browser: a rep narrows his leads to the open ones from the trade fair,
chooses his columns, saves that as a view the list opens with, and finds it again the next
time, from the views menu and by opening the list."""

import re

import pytest

from tests.leads import conftest as leads_fixtures
from tuoke.core.models import SavedView
from tuoke.leads import services

from .conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

# The leads tests' fixtures (channels), by name.
marketing, website, fair = leads_fixtures.marketing, leads_fixtures.website, leads_fixtures.fair
make_lead = leads_fixtures.make_lead


def _names(page) -> list[str]:
    return page.locator("[data-testid=lead-row]").evaluate_all(
        "rows => rows.map(r => r.dataset.name)"
    )


def _headers(page) -> list[str]:
    return page.locator("thead th[data-column]").evaluate_all(
        "cells => cells.map(c => c.dataset.column)"
    )


@pytest.fixture
def book(people, marketing, website, fair):
    """rep_east1's leads from the website and the fair (one of them cleaned), and one of 华南."""
    rep = people["rep_east1"]
    for name, channel, industry in (
        ("腾达精密", website, "精密制造"),
        ("华信电子", fair, "电子"),
        ("金龙机械", fair, "机械"),
        ("百度在线", fair, "互联网"),
    ):
        make_lead(
            marketing,
            owner=rep,
            channel=channel,
            company_name="",
            short_name=name,
            industry=industry,
        )
    junk = make_lead(marketing, owner=rep, channel=fair, company_name="", short_name="广告公司")
    services.clean_lead(junk, kind="junk", reason="广告", by=marketing)
    make_lead(
        marketing, owner=people["rep_south1"], channel=fair, company_name="", short_name="白云机电"
    )


def test_a_rep_saves_a_filtered_lead_view_and_reopens_it(people, book, fair, open_page):
    page, console = open_page(locale="en-US")
    log_in(page, "rep_east1")
    page.goto("/leads/")
    assert sorted(_names(page)) == ["华信电子", "广告公司", "百度在线", "腾达精密", "金龙机械"]
    assert page.locator("[data-testid=current-view]").inner_text() == "All leads"

    # The open leads from the fair, by name.
    page.select_option("[data-testid=filter-status]", "open")
    page.select_option("[data-testid=filter-channel]", str(fair.pk))
    page.locator("[data-testid=lead-filters] button[type=submit]").click()
    page.wait_for_url(re.compile(r"status=open"))
    page.click("[data-sort=company]")
    page.wait_for_url(re.compile(r"sort=company"))
    # Pinyin order: 百度 (baidu), 华信 (huaxin), 金龙 (jinlong).
    assert _names(page) == ["百度在线", "华信电子", "金龙机械"]

    # Columns: no channel (they are all from the fair), the industry right after the name.
    page.click("[data-testid=choose-columns]")
    columns = page.locator("[data-testid=columns-form]")
    columns.locator("[data-column=channel] input").uncheck()
    industry = columns.locator("[data-column=industry]")
    industry.locator("input").check()
    for _ in range(12):
        industry.locator("[data-testid=column-up]").click()
    columns.locator("[data-testid=columns-apply]").click()
    page.wait_for_url(re.compile(r"cols=industry%2C"))
    assert _headers(page)[:2] == ["lead", "industry"] and "channel" not in _headers(page)
    assert _names(page) == ["百度在线", "华信电子", "金龙机械"]

    # Save it as the view the list opens with.
    page.click("[data-testid=save-view]")
    page.fill("[data-testid=view-name]", "Fair leads")
    page.check("[data-testid=view-default]")
    page.click("[data-testid=view-save]")
    page.wait_for_url(re.compile(r"view=\d+"))
    assert page.locator("[data-testid=current-view]").inner_text() == "Fair leads"
    assert page.locator("[data-testid=view-modified]").count() == 0
    screenshot(page, "leads-list-journey-saved-view")
    view = SavedView.objects.get(name="Fair leads")
    assert view.list_key == "leads" and f"channel={fair.pk}" in view.query

    # Another day: all leads first, then the view from the menu.
    page.goto("/leads/?view=all")
    assert len(_names(page)) == 5
    page.click("[data-testid=views-menu]")
    page.click("[data-testid=view-option][data-name='Fair leads']")
    page.wait_for_url(re.compile(rf"view={view.pk}"))
    assert _names(page) == ["百度在线", "华信电子", "金龙机械"]
    assert _headers(page)[:2] == ["lead", "industry"]

    # The bare list opens with it; changing a filter marks it changed.
    page.goto("/leads/")
    page.wait_for_url(re.compile(rf"view={view.pk}"))
    assert page.locator("[data-testid=current-view]").inner_text() == "Fair leads"
    assert _names(page) == ["百度在线", "华信电子", "金龙机械"]
    page.fill("[data-testid=lead-search]", "华信")
    page.locator("[data-testid=lead-search]").press("Enter")
    page.wait_for_url(re.compile(r"q=%E5%8D%8E%E4%BF%A1"))
    assert _names(page) == ["华信电子"]
    assert page.locator("[data-testid=view-modified]").is_visible()
    assert console.errors == []
