"""A rep works his deals on the board: he drags one to the next stage and sees the column
totals change, tries to drag one without an amount into 方案报价 and sees it snap back with
the reason, moves another with the keyboard through its "Move to…" menu, and drops a deal on
the lost stage, which asks for a reason. On his phone the columns scroll sideways and the
menu does the same."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _deals(people):
    from tests.sales import records
    from tuoke.customers.services import create_customer
    from tuoke.org.defaults import ensure_default_roles
    from tuoke.sales.models import LostReason

    ensure_default_roles()
    rep = people["rep_east1"]
    customer = create_customer(by=rep, short_name="腾达精密", contacts=[{"name": "王强"}])
    records.pipeline()
    LostReason.objects.create(name="价格过高")
    return {
        "mes": records.opportunity(rep, customer, title="MES 一期", amount="100000"),
        "erp": records.opportunity(rep, customer, title="ERP 升级", stage_name="需求确认"),
        "wms": records.opportunity(rep, customer, title="仓储系统", amount="50000"),
    }


def records_stage(name):
    from tests.sales import records

    return records.stage(name)


def _stage_pk(name):
    return records_stage(name).pk


def _column(page, name):
    return page.locator(f".board-cards[data-stage='{_stage_pk(name)}']")


def _total(page, name):
    return page.locator(f"#board-total-{_stage_pk(name)}")


def _in(page, stage_name, title):
    return _column(page, stage_name).locator("[data-testid=board-card]", has_text=title)


def _card(page, title):
    return page.locator("[data-testid=board-card]", has_text=title)


def _drag(page, card, target) -> None:
    """Drag by the card's customer line (links and menus do not start a drag), in steps as
    a hand would, for SortableJS's pointer fallback (forceFallback)."""
    handle = card.locator(".card-body > div").nth(1)
    box = handle.bounding_box()
    goal = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 5, box["y"] + box["height"] / 2 + 5, steps=3)
    x, y = goal["x"] + goal["width"] / 2, goal["y"] + min(goal["height"] / 2, 40)
    page.mouse.move(x, y, steps=15)
    # SortableJS's fallback looks under the pointer every 50 ms: hover before letting go.
    page.wait_for_timeout(120)
    page.mouse.move(x + 2, y + 2)
    page.wait_for_timeout(120)
    page.mouse.up()


def _unexpected(errors: list[str]) -> list[str]:
    """The console's errors but the refused moves' answers (422, 409), which the browser
    and htmx both report."""
    return [e for e in errors if "422" not in e and "409" not in e]


def _stage_of(opportunity):
    opportunity.refresh_from_db()
    return opportunity.stage.name


def test_a_rep_drags_deals_across_the_board(people, open_page):
    deals = _deals(people)
    page, console = open_page(DESKTOP)
    log_in(page, "rep_east1")
    page.goto("/sales/board/")
    expect(page).to_have_url(re.compile(r"/sales/board/\d+/$"))
    expect(_total(page, "初步接洽")).to_have_attribute("data-count", "2")
    expect(_total(page, "需求确认")).to_have_attribute("data-count", "1")

    # Drag MES 一期 to the next column: the totals of both columns follow.
    _drag(page, _card(page, "MES 一期"), _column(page, "需求确认"))
    expect(_total(page, "需求确认")).to_have_attribute("data-count", "2")
    expect(_total(page, "需求确认")).to_have_attribute("data-amount", "100000.00")
    expect(_total(page, "需求确认")).to_have_attribute("data-weighted", "30000.00")
    expect(_total(page, "初步接洽")).to_have_attribute("data-count", "1")
    expect(_in(page, "需求确认", "MES 一期")).to_be_visible()
    assert _stage_of(deals["mes"]) == "需求确认"

    # ERP 升级 has no amount: 方案报价 refuses it, and it goes back with the reason.
    _drag(page, _card(page, "ERP 升级"), _column(page, "方案报价"))
    alert = page.locator("[data-testid=board-alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Enter the amount before moving to “方案报价”")
    erp = _column(page, "需求确认").locator("[data-testid=board-card]", has_text="ERP 升级")
    expect(erp).to_be_visible()
    expect(erp.locator("[data-testid=board-card-error]")).to_contain_text("amount")
    expect(_total(page, "方案报价")).to_have_attribute("data-count", "0")
    assert _stage_of(deals["erp"]) == "需求确认"
    screenshot(page, "board-snapback")

    # The keyboard: the card's "Move to…" menu and its button, no drag needed.
    wms = _card(page, "仓储系统")
    wms.focus()
    page.keyboard.press("Tab")  # the title link
    menu = wms.locator("[data-testid=board-move-select]")
    menu.focus()
    menu.select_option(label="需求确认")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(_total(page, "需求确认")).to_have_attribute("data-count", "3")
    expect(_total(page, "初步接洽")).to_have_attribute("data-count", "0")
    expect(_in(page, "需求确认", "仓储系统")).to_be_focused()
    assert _stage_of(deals["wms"]) == "需求确认"

    # Dropping on the lost stage is not a move: it asks why, and the deal leaves the board.
    _drag(page, _card(page, "MES 一期"), page.locator("[data-testid=board-drop-lost]"))
    dialog = page.locator("[data-testid=board-close-dialog]")
    expect(dialog).to_be_visible()
    dialog.locator("[data-testid=board-close-cancel]").click()
    expect(dialog).to_be_hidden()
    expect(_in(page, "需求确认", "MES 一期")).to_be_visible()

    _drag(page, _card(page, "MES 一期"), page.locator("[data-testid=board-drop-lost]"))
    expect(dialog).to_be_visible()
    dialog.locator("[data-testid=board-close-reason]").select_option(label="价格过高")
    dialog.locator("[data-testid=board-close-note]").fill("预算砍了")
    dialog.locator("[data-testid=board-close-confirm]").click()
    expect(dialog).to_be_hidden()
    expect(_card(page, "MES 一期")).to_have_count(0)
    expect(page.locator(f"#board-total-{_stage_pk('输单')}")).to_have_attribute("data-count", "1")
    expect(_total(page, "需求确认")).to_have_attribute("data-count", "2")
    deals["mes"].refresh_from_db()
    assert (deals["mes"].status, deals["mes"].lost_reason.name) == ("lost", "价格过高")

    # Someone else moved ERP 升级 meanwhile: the stale card is refused and the board reloads.
    from tuoke.sales.models import Opportunity

    Opportunity.objects.filter(pk=deals["erp"].pk).update(
        stage=records_stage("商务谈判"), version=deals["erp"].version + 1
    )
    erp = _card(page, "ERP 升级")
    erp.locator("[data-testid=board-move-select]").select_option(label="初步接洽")
    erp.locator("[data-testid=board-move-submit]").click()
    expect(page.locator("[data-testid=board-alert]")).to_contain_text("changed by someone else")
    expect(_in(page, "商务谈判", "ERP 升级")).to_be_visible()
    assert _stage_of(deals["erp"]) == "商务谈判"
    assert _unexpected(console.errors) == []


def test_a_rep_moves_a_deal_on_his_phone(people, open_page):
    deals = _deals(people)
    page, console = open_page(PHONE)
    log_in(page, "rep_east1")
    page.goto("/sales/board/")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px (only the board should)"
    board = page.locator("[data-testid=board-columns]")
    assert board.evaluate("el => el.scrollWidth > el.clientWidth")  # the columns scroll

    card = _card(page, "MES 一期")
    card.locator("[data-testid=board-move-select]").select_option(label="需求确认")
    card.locator("[data-testid=board-move-submit]").click()
    expect(_total(page, "需求确认")).to_have_attribute("data-count", "2")
    assert _stage_of(deals["mes"]) == "需求确认"

    # Won through the menu: the same dialog.
    card = _card(page, "仓储系统")
    card.locator("[data-testid=board-move-select]").select_option(label="Win · 赢单")
    card.locator("[data-testid=board-move-submit]").click()
    dialog = page.locator("[data-testid=board-close-dialog]")
    expect(dialog).to_be_visible()
    dialog.locator("[data-testid=board-close-confirm]").click()
    expect(_card(page, "仓储系统")).to_have_count(0)
    expect(page.locator(f"#board-total-{_stage_pk('赢单')}")).to_have_attribute("data-count", "1")
    assert _stage_of(deals["wms"]) == "赢单"
    screenshot(page, "board-phone")
    assert console.errors == []
