"""The administrator builds the flow "大额合同审批" (amount ≥ 500,000 → the submitter's unit
manager → the finance role) in the editor; a rep's contract of 800,000 goes to 王经理, who
approves it with a comment from his queue; finance returns it for changes, the rep submits it
again, and it is approved to the end: the contract is effective, and the request's steps and
history show who did what. The queue reads as cards on a phone."""

import pytest
from playwright.sync_api import expect

from tests.contracts import records
from tuoke.contracts import services as contracts
from tuoke.contracts.models import Contract
from tuoke.org import approvals
from tuoke.org.models import ApprovalFlow, ApprovalRequest

from .conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _no_sideways_scrolling(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"


def _build_the_flow(page) -> None:
    page.goto("/approvals/flows/")
    page.click("[data-testid=flow-create]")
    page.wait_for_url("**/approvals/flows/new/")
    page.fill("#id_name", "大额合同审批")
    page.fill("#id_description", "五十万以上的合同")
    expect(page.locator("#id_target")).to_have_value("contract")

    # One condition: the amount at least 500,000 (in the reporting currency).
    page.click("[data-testid=condition-add]")
    condition = page.locator("[data-testid=condition-row]").last
    condition.locator("[data-testid=condition-fact]").select_option("amount")
    condition.locator("[data-testid=condition-op]").select_option("gte")
    condition.locator("[data-testid=condition-value]").fill("500000")
    expect(condition.locator(".input-group-text").first).to_have_text("CNY")

    # A yes/no fact takes no value: the value box goes away.
    page.click("[data-testid=condition-add]")
    extra = page.locator("[data-testid=condition-row]").last
    extra.locator("[data-testid=condition-fact]").select_option("foreign_currency")
    expect(extra.locator("[data-testid=condition-value]")).to_be_hidden()
    expect(extra.locator("[data-testid=condition-op] option")).to_have_count(2)
    extra.locator("[data-testid=condition-remove]").click()
    expect(page.locator("[data-testid=condition-row]")).to_have_count(1)

    # Step 1: the submitter's unit manager (the blank row the editor starts with).
    first = page.locator("[data-testid=step-row]").first
    first.locator("[data-testid=step-name]").fill("部门经理审批")
    expect(first.locator("[data-testid=step-role]")).to_be_hidden()
    # Step 2: anyone holding the finance role.
    page.click("[data-testid=step-add]")
    second = page.locator("[data-testid=step-row]").last
    second.locator("[data-testid=step-name]").fill("财务审核")
    second.locator("[data-testid=step-kind]").select_option("role")
    expect(second.locator("[data-testid=step-role]")).to_be_visible()
    # Saved without the role first: the error shows at its row.
    page.click("[data-testid=save]")
    row_error = page.locator("[data-testid=step-row]").last.locator("[data-field=role]")
    expect(row_error).to_be_visible()
    second = page.locator("[data-testid=step-row]").last
    second.locator("[data-testid=step-role]").select_option(label="财务专员")
    screenshot(page, "approval-flow-editor")
    page.click("[data-testid=save]")
    page.wait_for_url("**/approvals/flows/#flow-*")


def test_a_large_contract_goes_through_the_flow_built_in_the_editor(people, open_page):
    # Start from no contract flow at all (a fresh database has the defaults).
    ApprovalFlow.all_objects.filter(target="contract").delete()

    admin, admin_console = open_page()
    log_in(admin, "admin")
    _build_the_flow(admin)
    flow_row = admin.locator("[data-testid=flow-row][data-flow=大额合同审批]")
    expect(flow_row.locator("[data-testid=flow-condition]")).to_have_text(
        ["Amount (reporting currency) ≥ ¥500,000.00"]
    )
    expect(flow_row.locator("[data-testid=flow-step]")).to_have_count(2)
    expect(flow_row.locator("[data-testid=flow-step]").last).to_contain_text("财务审核")
    flow = ApprovalFlow.objects.get(name="大额合同审批")
    assert flow.conditions == [{"fact": "amount", "op": "gte", "value": "500000"}]
    assert [
        (s.name, s.approver_kind, getattr(s.role, "default_key", ""))
        for s in flow.steps.order_by("sort_order")
    ] == [
        ("部门经理审批", "unit_manager", ""),
        ("财务审核", "role", "finance"),
    ]
    screenshot(admin, "approval-flow-list")

    # rep_east1 submits a contract of 800,000 (through the contract services).
    rep = people["rep_east1"]
    contract = records.contract(
        rep,
        records.customer(rep, "东方电子"),
        number="HT-JOURNEY-1",
        title="东方电子年度框架合同",
        amount="800000",
        status="draft",
    )
    contracts.submit_contract(contract, by=rep, comment="请审批")
    request = approvals.pending_request(contract)
    assert request.flow_name == "大额合同审批"

    # 王经理 finds it in his queue and approves it with a comment.
    manager, manager_console = open_page()
    log_in(manager, "manager_east")
    manager.goto("/approvals/")
    expect(manager.locator("[data-testid=decide-count]")).to_have_text("1")
    row = manager.locator(f"[data-testid=approval-row][data-request='{request.pk}']")
    expect(row).to_contain_text("HT-JOURNEY-1 东方电子年度框架合同")
    expect(row.locator("[data-testid=approval-amount]")).to_have_text("¥800,000.00")
    expect(row.locator("[data-testid=approval-step]")).to_have_text("部门经理审批")
    row.locator("[data-testid=approval-link]").click()
    manager.wait_for_url(f"**/approvals/{request.pk}/")
    manager.fill("[data-testid=decision-comment]", "同意，价格合理")
    manager.click("[data-testid=approve-submit]")
    manager.wait_for_load_state("load")
    expect(manager.locator(".alert-success")).to_be_visible()
    expect(manager.locator("[data-testid=decision-form]")).to_have_count(0)
    steps = manager.locator("[data-testid=approval-step]")
    expect(steps.nth(0)).to_have_attribute("data-status", "approved")
    expect(steps.nth(1)).to_have_attribute("data-status", "pending")
    expect(manager.locator("[data-testid=approval-action][data-kind=approve]")).to_contain_text(
        "同意，价格合理"
    )
    screenshot(manager, "approval-request-approved-step-1")

    # Finance returns it for changes: a comment is required (refused without one).
    finance, finance_console = open_page()
    log_in(finance, "finance1")
    finance.goto("/approvals/")
    finance.locator(f"[data-testid=approval-row][data-request='{request.pk}'] a").click()
    finance.click("[data-testid=return-submit]")
    expect(finance.locator("[data-testid=comment-error]")).to_be_visible()
    finance.fill("[data-testid=decision-comment]", "请补充付款条款")
    finance.click("[data-testid=return-submit]")
    finance.wait_for_load_state("load")
    expect(finance.locator(".page-title [data-testid=status-badge]")).to_have_attribute(
        "data-status", "returned"
    )
    contract.refresh_from_db()
    assert contract.status == "draft"

    # The rep changes nothing but submits again; 王经理 approves at once, and finance approves
    # the new request from the queue.
    contracts.submit_contract(contract, by=rep, comment="已补充付款条款")
    second = approvals.pending_request(contract)
    approvals.approve(second, by=people["manager_east"], comment="")
    finance.goto("/approvals/")
    expect(finance.locator("[data-testid=approval-row]")).to_have_count(1)
    finance.locator(f"[data-testid=approval-row][data-request='{second.pk}'] a").click()
    finance.fill("[data-testid=decision-comment]", "付款条款已确认")
    finance.click("[data-testid=approve-submit]")
    finance.wait_for_load_state("load")
    expect(finance.locator(".page-title [data-testid=status-badge]")).to_have_attribute(
        "data-status", "approved"
    )
    expect(finance.locator("[data-testid=approval-step][data-status=approved]")).to_have_count(2)
    assert ApprovalRequest.objects.get(pk=second.pk).status == "approved"
    assert Contract.objects.get(pk=contract.pk).status == "effective"

    # The rep sees both requests under "Submitted by me", with their outcome and history.
    mine, mine_console = open_page()
    log_in(mine, "rep_east1")
    mine.goto("/approvals/?box=mine")
    expect(mine.locator(f"[data-request='{request.pk}']")).to_have_attribute(
        "data-status", "returned"
    )
    expect(mine.locator(f"[data-request='{second.pk}']")).to_have_attribute(
        "data-status", "approved"
    )
    mine.goto(f"/approvals/{request.pk}/")
    kinds = mine.locator("[data-testid=approval-action]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.kind)"
    )
    assert kinds == ["submit", "approve", "return"]
    expect(mine.locator("[data-testid=approval-action][data-kind=return]")).to_contain_text(
        "请补充付款条款"
    )

    # On a phone: 王经理's queue (another request waiting) reads as cards, no sideways scroll.
    other = records.contract(
        rep,
        records.customer(rep, "东方电子"),
        number="HT-JOURNEY-2",
        amount="650000",
        status="draft",
    )
    contracts.submit_contract(other, by=rep)
    phone, phone_console = open_page(viewport=PHONE)
    log_in(phone, "manager_east")
    phone.goto("/approvals/")
    card = phone.locator("[data-testid=approval-row]").first
    expect(card).to_be_visible()
    assert card.evaluate("row => getComputedStyle(row).display") == "block"
    expect(phone.locator("[data-testid=approval-table] thead")).to_be_hidden()
    _no_sideways_scrolling(phone)
    screenshot(phone, "approval-queue-phone")

    # The refused saves (the editor without a role, the return without a comment) answer 400:
    # expected, nothing else.
    for console in (admin_console, manager_console, finance_console, mine_console, phone_console):
        assert [e for e in console.errors if "status of 400" not in e] == []
