"""An administrator's day: invite a colleague who then logs in, deactivate him, which locks
him out at once, and bring a deleted unit back from the recycle bin."""

import pytest

from .conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_invites_then_deactivates_a_user_who_is_locked_out_at_once(people, open_page):
    admin_page, admin_console = open_page(locale="zh-CN")
    log_in(admin_page, "admin")
    admin_page.goto("/org/users/")
    admin_page.click("[data-testid=user-invite]")
    admin_page.fill("#id_username", "rep_east3")
    admin_page.fill("#id_display_name", "赵磊")
    admin_page.select_option("#id_unit", value=str(people["rep_east1"].unit_id))
    admin_page.get_by_label("销售代表", exact=True).check()
    admin_page.fill("#id_password", "Xin-Yuan-2026!")
    admin_page.click("[data-testid=save]")
    admin_page.wait_for_url("**/org/users/*/")
    assert admin_page.locator("[data-testid=user-name]").inner_text() == "赵磊"
    assert "销售代表" in admin_page.locator("[data-testid=user-roles]").inner_text()
    user_url = admin_page.url

    newcomer, newcomer_console = open_page(viewport=PHONE, locale="zh-CN")
    log_in(newcomer, "rep_east3", "Xin-Yuan-2026!")
    assert "赵磊" in newcomer.content()
    screenshot(newcomer, "admin-journey-newcomer-home")

    admin_page.goto(user_url)
    admin_page.click("[data-testid=user-deactivate]")
    admin_page.click("[data-testid=confirm]")
    admin_page.wait_for_url(user_url)
    assert admin_page.locator("[data-testid=user-status]").inner_text() != "启用"
    screenshot(admin_page, "admin-journey-deactivated")

    # His open session is dead: the next page sends him to the login page, and he cannot log in.
    newcomer.goto("/")
    assert "/login/" in newcomer.url
    newcomer.fill("#id_username", "rep_east3")
    newcomer.fill("#id_password", "Xin-Yuan-2026!")
    newcomer.click("button[type=submit]")
    assert newcomer.locator("[data-testid=login-error]").is_visible()
    assert admin_console.errors == [] and newcomer_console.errors == []


def test_it_restores_a_deleted_unit_from_the_recycle_bin(people, open_page):
    page, console = open_page(locale="en-US")
    log_in(page, "admin")
    page.goto("/org/units/new/")
    page.fill("#id_name", "Trade fairs")
    page.click("[data-testid=save]")
    page.wait_for_url("**/org/units/*/")
    page.click("[data-testid=unit-delete]")
    page.click("[data-testid=confirm]")
    page.wait_for_url("**/org/units/")
    assert "Trade fairs" not in page.locator("[data-testid=unit-tree]").inner_text()

    page.click("[data-nav=recycle_bin]")
    row = page.locator("[data-testid=bin-row]", has_text="Trade fairs")
    row.locator("[data-testid=restore]").click()
    page.click("[data-testid=confirm]")
    page.goto("/org/units/")
    assert "Trade fairs" in page.locator("[data-testid=unit-tree]").inner_text()
    page.click("text=Trade fairs")
    kinds = page.locator("[data-testid=audit-entry]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.kind)"
    )
    assert kinds[:3] == ["restore", "delete", "create"]
    assert console.errors == []
