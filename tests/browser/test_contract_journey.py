"""The judged story of contracts, end to end in the browser: a rep drafts the contract of his
won deal (800,000: above the threshold) with two instalments, one already due, and submits it;
it is pending and its edit is refused; his manager, the sales director and finance approve it
from their queues and it is effective; finance records 300,000 received: the contract shows it,
the first instalment partly paid, the rep's sales credit appears only now, and the rest of the
overdue instalment is a task on the rep's Today page. The contract's page reads on a phone."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.contracts import records
from tests.sales import records as sales_records
from tuoke.contracts.models import Contract

from .conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def won(people):
    from tuoke.org.defaults import ensure_default_roles
    from tuoke.org.models import ApprovalFlow
    from tuoke.sales.services import win

    ensure_default_roles()
    # The default flow (manager → director → finance) whatever the flush left behind.
    ApprovalFlow.all_objects.filter(target="contract").delete()
    records.flow()
    rep = people["rep_east1"]
    customer = records.customer(rep, "东方电子")
    sales_records.pipeline()
    deal = sales_records.opportunity(rep, customer, title="产线改造", amount="800000")
    return win(deal, by=rep, note="客户已确认")


def _no_sideways_scrolling(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"


def _approve_from_queue(open_page, username: str, number: str) -> None:
    page, console = open_page()
    log_in(page, username)
    page.goto("/approvals/")
    row = page.locator("[data-testid=approval-row]", has_text=number)
    expect(row).to_have_count(1)
    row.locator("[data-testid=approval-link]").click()
    page.wait_for_url("**/approvals/*/")
    page.fill("[data-testid=decision-comment]", "同意")
    page.click("[data-testid=approve-submit]")
    page.wait_for_load_state("load")
    assert console.errors == [], "\n".join(console.errors)


def _credit(rep) -> Decimal:
    from tuoke.contracts.payments import credited_total

    today = timezone.localdate()
    return credited_total(
        start=today - timedelta(days=31), end=today + timedelta(days=1), owner=rep
    )


def test_a_large_contract_is_approved_paid_and_credited(people, won, open_page):
    rep = people["rep_east1"]
    today = timezone.localdate()
    past = today - timedelta(days=10)
    page, console = open_page()
    log_in(page, "rep_east1")

    # The won deal offers to draft its contract, filled in from the deal.
    page.goto(f"/sales/opportunities/{won.pk}/")
    expect(page.locator("[data-testid=contract-offer]")).to_be_visible()
    page.click("[data-testid=draft-contract]")
    page.wait_for_url(f"**/contracts/new/?opportunity={won.pk}")
    expect(page.locator("#id_title")).to_have_value("产线改造")
    page.fill("#id_title", "产线改造实施合同")
    page.fill("#id_amount", "800000")
    page.fill("#id_starts_on", today.isoformat())
    page.fill("#id_ends_on", (today + timedelta(days=364)).isoformat())
    page.click("[data-testid=instalment-add]")
    page.click("[data-testid=instalment-add]")
    rows = page.locator("[data-testid=instalment-row]")
    expect(rows).to_have_count(2)
    rows.nth(0).locator("[data-testid=instalment-due]").fill(past.isoformat())
    rows.nth(0).locator("[data-testid=instalment-amount]").fill("500000")
    rows.nth(0).locator("[data-testid=instalment-note]").fill("首付款")
    rows.nth(1).locator("[data-testid=instalment-due]").fill(
        (today + timedelta(days=90)).isoformat()
    )
    rows.nth(1).locator("[data-testid=instalment-amount]").fill("200000")
    # The running total says what is left to plan, then that all is planned.
    expect(page.locator("[data-testid=plan-left]")).to_contain_text("100,000.00")
    rows.nth(1).locator("[data-testid=instalment-amount]").fill("300000")
    expect(page.locator("[data-testid=plan-total]")).to_have_text("800,000.00")
    expect(page.locator("[data-testid=plan-left]")).to_have_text("All planned")
    screenshot(page, "contract-journey-draft")
    page.click("[data-testid=save]")
    page.wait_for_url("**/contracts/*/")
    contract = Contract.objects.get(title="产线改造实施合同")
    assert contract.opportunity_id == won.pk
    expect(page.locator("[data-testid=contract-status]")).to_have_attribute("data-status", "draft")
    expect(page.locator("[data-testid=instalment]")).to_have_count(2)

    # Submitted: pending, read-only, and the edit page says why.
    page.click("[data-testid=submit-open]")
    page.fill("#submit_comment", "请审批")
    page.click("[data-testid=submit-confirm]")
    page.wait_for_load_state("load")
    expect(page.locator("[data-testid=contract-status]")).to_have_attribute(
        "data-status", "pending"
    )
    expect(page.locator("[data-testid=pending-banner]")).to_be_visible()
    expect(page.locator("[data-testid=contract-edit]")).to_have_count(0)
    expect(page.locator("[data-testid=approval-request]")).to_have_count(1)
    page.goto(f"/contracts/{contract.pk}/edit/")
    expect(page.locator("[data-testid=locked-reason]")).to_contain_text(
        "pending approval and cannot be changed"
    )
    expect(page.locator("[data-testid=contract-form]")).to_have_count(0)
    screenshot(page, "contract-journey-locked")
    contract.refresh_from_db()
    assert contract.status == "pending"

    # Manager, director, finance approve from their queues.
    for approver in ("manager_east", "director"):
        _approve_from_queue(open_page, approver, contract.number)
        contract.refresh_from_db()
        assert contract.status == "pending"
    assert _credit(rep) == 0
    _approve_from_queue(open_page, "finance1", contract.number)
    contract.refresh_from_db()
    assert contract.status == "effective"
    # Approved, not paid: no credit yet (the default rule credits money received).
    assert _credit(rep) == 0

    # Finance records 300,000 received.
    finance, finance_console = open_page()
    log_in(finance, "finance1")
    finance.goto(f"/contracts/{contract.pk}/")
    expect(finance.locator("[data-testid=contract-status]")).to_have_attribute(
        "data-status", "effective"
    )
    finance.click("[data-testid=payment-new]")
    finance.wait_for_url(f"**/contracts/{contract.pk}/payments/new/")
    finance.fill("#id_amount", "300000")
    finance.fill("#id_reference", "ICBC-20260101")
    finance.click("[data-testid=save]")
    finance.wait_for_url(f"**/contracts/{contract.pk}/#payments")
    expect(finance.locator("[data-fact=received]")).to_have_text("¥300,000.00")
    expect(finance.locator("[data-fact=outstanding]")).to_have_text("¥500,000.00")
    first = finance.locator("[data-testid=instalment][data-position='1']")
    expect(first.locator("[data-testid=instalment-paid]")).to_have_text("¥300,000.00")
    expect(first.locator("[data-testid=instalment-state][data-state=partly_paid]")).to_be_visible()
    expect(first.locator("[data-testid=instalment-state][data-state=overdue]")).to_be_visible()
    expect(finance.locator("[data-testid=payment][data-status=confirmed]")).to_have_count(1)
    assert finance_console.errors == [], "\n".join(finance_console.errors)

    # The credit appears with the money.
    assert _credit(rep) == Decimal("300000")

    # The rest of the overdue instalment is on the rep's plan for today.
    from tuoke.activities.plan import generate_plan

    generate_plan()
    page.goto("/")
    task = page.locator("[data-testid=task]", has_text=contract.number)
    expect(task).to_have_count(1)
    expect(task).to_contain_text("Overdue payment")
    expect(task).to_contain_text("200,000.00")
    # The edit page's 409 is the only error the rep's pages printed.
    unexpected = [e for e in console.errors if "status of 409" not in e]
    assert unexpected == [], "\n".join(unexpected)

    # The contract's page on the rep's phone.
    phone, phone_console = open_page(PHONE)
    log_in(phone, "rep_east1")
    phone.goto(f"/contracts/{contract.pk}/")
    expect(phone.locator("[data-testid=plan]")).to_be_visible()
    expect(phone.locator("[data-testid=payments]")).to_be_visible()
    expect(phone.locator("[data-fact=received]")).to_have_text("¥300,000.00")
    _no_sideways_scrolling(phone)
    screenshot(phone, "contract-journey-phone")
    phone.goto("/contracts/")
    expect(phone.locator("[data-testid=contract-row]")).to_have_count(1)
    _no_sideways_scrolling(phone)
    screenshot(phone, "contract-journey-phone-list")
    assert phone_console.errors == [], "\n".join(phone_console.errors)
