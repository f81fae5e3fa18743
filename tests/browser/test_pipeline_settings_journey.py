"""An administrator sets up a renewal pipeline: creates it, adds and reorders stages, makes a
stage require a field, archives one, and is told why a stage deals sit in cannot go."""

import pytest

from tests.sales import records

from .conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _open_stage_names(card) -> list[str]:
    return card.locator("[data-testid=open-stages] [data-testid=stage-name]").all_inner_texts()


def test_an_administrator_sets_up_a_renewal_pipeline(people, open_page):
    from tuoke.customers.services import create_customer

    customer = create_customer(by=people["rep_east1"], short_name="华东客户")
    records.opportunity(people["rep_east1"], customer, title="在谈商机", stage_name="需求确认")
    busy = records.stage("需求确认")

    page, console = open_page(locale="en-US")
    log_in(page, "admin")
    page.goto("/sales/pipelines/")
    page.click("[data-testid=pipeline-create]")
    page.fill("#id_name", "续约")
    page.fill("#id_description", "老客户合同到期续约")
    page.click("[data-testid=save]")
    page.wait_for_url("**/sales/pipelines/#pipeline-*")
    card = page.locator("[data-testid=pipeline-card][data-pipeline=续约]")
    assert _open_stage_names(card) == ["初步接洽", "需求确认", "方案报价", "商务谈判"]

    # A stage added in place comes last among the open ones.
    card.locator("[data-testid=stage-add-name]").fill("续约确认")
    card.locator("[data-testid=stage-add-probability]").fill("70")
    card.locator("[data-testid=stage-add]").click()
    card.locator("[data-stage=续约确认]").wait_for()
    assert _open_stage_names(card)[-1] == "续约确认"

    # Reordered with the keyboard: focus its "up" arrow and press Enter.
    card.locator("[data-stage=续约确认] [data-testid=stage-up]").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-pipeline="续约"] [data-testid=open-stages]'
                 + ' [data-testid=stage-name]')].map(n => n.innerText)[3] === '续约确认'"""
    )
    # …and by dragging the first stage below the second.
    first = card.locator("[data-stage=初步接洽] [data-drag-handle]")
    second = card.locator("[data-stage=需求确认]")
    box = second.bounding_box()
    first.hover()
    page.mouse.down()
    start = first.bounding_box()
    page.mouse.move(start["x"] + 5, start["y"] + 15, steps=3)  # a drag starts on a move
    page.mouse.move(box["x"] + 40, box["y"] + box["height"] * 0.8, steps=12)
    page.wait_for_timeout(200)  # the animation settles before the drop
    # The drop posts the new order and the card is swapped in again: wait for the answer,
    # or the next click may land on the card about to be replaced (seen under load).
    with page.expect_response(lambda r: "/stages/order/" in r.url):
        page.mouse.up()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-pipeline="续约"] [data-testid=open-stages]'
                 + ' [data-testid=stage-name]')].map(n => n.innerText)[0] === '需求确认'"""
    )
    assert _open_stage_names(card) == ["需求确认", "初步接洽", "方案报价", "续约确认", "商务谈判"]

    # The new stage requires the contacts involved.
    page.wait_for_load_state("networkidle")
    card.locator("[data-stage=续约确认] [data-testid=stage-edit]").click()
    form = card.locator("[data-testid=stage-form]")
    form.get_by_label("contacts involved").check()
    form.locator("input[name=expected_days]").fill("10")
    form.locator("[data-testid=stage-save]").click()
    row = card.locator("[data-stage=续约确认]")
    row.locator("[data-testid=stage-required]").wait_for()
    assert "contacts involved" in row.locator("[data-testid=stage-required]").inner_text()
    screenshot(page, "pipeline-settings-renewal")

    # Archiving an idle stage asks first, then keeps it aside.
    card.locator("[data-stage=商务谈判] [data-testid=stage-archive]").click()
    page.click("[data-testid=confirm]")
    page.wait_for_url("**/sales/pipelines/#pipeline-*")
    card = page.locator("[data-testid=pipeline-card][data-pipeline=续约]")
    assert "商务谈判" not in _open_stage_names(card)
    assert card.locator("[data-testid=archived-stage]", has_text="商务谈判").count() == 1

    # A stage an open deal sits in cannot be archived: the page says why and links to it.
    page.goto(f"/sales/stages/{busy.pk}/archive/")
    refusal = page.locator("[data-testid=refusal]")
    assert "1 open opportunities" in refusal.inner_text()
    assert f"stage={busy.pk}" in refusal.locator("a").get_attribute("href")
    assert page.locator("[data-testid=confirm]").is_disabled()
    assert console.errors == []


def test_the_pipeline_page_fits_a_phone(people, open_page):
    page, console = open_page(viewport=PHONE, locale="zh-CN")
    log_in(page, "admin")
    page.goto("/sales/pipelines/")
    assert page.locator("[data-testid=pipeline-create]").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1
    screenshot(page, "pipeline-settings-phone")
    assert console.errors == []
