"""How contracts plug into the rest: the default approval flows and settings of a fresh
installation, the contract as an approval target (its facts, its request, its page), handing
over contracts in progress, and merging customers with their contracts, payments and
invoices."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.contracts import records
from tuoke.contracts import hooks, services
from tuoke.contracts.defaults import install_defaults
from tuoke.contracts.models import Contract, ContractSettings, Invoice, Payment
from tuoke.core.models import ExchangeRate
from tuoke.core.services import soft_delete
from tuoke.customers.services import create_customer, merge_customers
from tuoke.org import approvals, handover
from tuoke.org.models import ApprovalFlow, Role


def _flows():
    return [
        (
            flow.name,
            flow.conditions,
            [
                (s.name, s.approver_kind, s.role.default_key if s.role else "")
                for s in flow.steps.all()
            ],
        )
        for flow in ApprovalFlow.objects.filter(target="contract").order_by("sort_order", "pk")
    ]


LARGE = (
    "大额合同审批",
    [{"fact": "amount", "op": "gte", "value": "500000"}],
    [
        ("部门经理审批", "unit_manager", ""),
        ("销售总监审批", "next_manager", ""),
        ("财务审核", "role", "finance"),
    ],
)
FOREIGN = (
    "外币合同审批",
    [{"fact": "foreign_currency", "op": "is_true", "value": None}],
    [("财务审核", "role", "finance")],
)


def test_a_fresh_install_has_the_default_flows_and_settings(db):
    assert _flows() == [LARGE, FOREIGN]
    assert ContractSettings.objects.count() == 1
    assert ContractSettings.current().credit_rule == "payment"
    assert ContractSettings.current().renewal_horizon_days == 60


def test_the_defaults_are_made_once_and_never_come_back(db):
    install_defaults()
    assert len(_flows()) == 2
    assert ContractSettings.objects.count() == 1
    for flow in ApprovalFlow.objects.all():
        soft_delete(flow, by=None)
    install_defaults()
    assert _flows() == []


def test_without_a_finance_role_the_default_flow_skips_finance(db):
    ApprovalFlow.all_objects.all().delete()
    soft_delete(Role.objects.get(default_key="finance"), by=None)
    install_defaults()
    assert _flows() == [(LARGE[0], LARGE[1], LARGE[2][:2])]


def test_the_contract_target_tells_its_facts_in_the_reporting_currency(rep_east, customer):
    ExchangeRate.objects.create(currency="USD", valid_on=date(2026, 1, 1), rate=Decimal("7"))
    ExchangeRate.objects.create(currency="USD", valid_on=date(2026, 6, 1), rate=Decimal("7.2"))
    contract = services.create_contract(
        customer=customer,
        title="海外项目",
        amount="1000",
        currency="USD",
        discount="12.5",
        signed_on=date(2026, 3, 1),
        by=rep_east,
    )
    target = approvals.target("contract")
    assert target.facts_of(contract) == {
        "amount": Decimal("7000.00"),
        "discount": Decimal("12.50"),
        "foreign_currency": True,
        "currency": "USD",
    }
    assert target.describe(contract) == (
        f"{contract.number} 海外项目",
        Decimal("1000.00"),
        "USD",
    )
    assert target.url_of(contract) == f"/contracts/{contract.pk}/"
    services.delete_contract(contract, by=rep_east)
    assert target.load(contract.pk) == contract
    assert {f.key: f.kind for f in target.facts} == {
        "amount": "money",
        "discount": "percent",
        "foreign_currency": "boolean",
        "currency": "text",
    }


def test_a_flow_on_the_discount_takes_discounted_contracts(people, rep_east, customer):
    approvals.create_flow(
        name="大折扣审批",
        target="contract",
        by=people["admin"],
        sort_order=-10,
        conditions=[{"fact": "discount", "op": "gte", "value": "20"}],
        steps=[{"name": "总监审批", "approver_kind": "user", "user": people["director"]}],
    )
    plain = services.create_contract(customer=customer, title="标准价", amount=1000, by=rep_east)
    assert services.submit_contract(plain, by=rep_east).status == "effective"
    cheap = services.create_contract(
        customer=customer, title="大折扣", amount=1000, discount=25, by=rep_east
    )
    assert services.submit_contract(cheap, by=rep_east).status == "pending"
    assert approvals.pending_request(cheap).flow_name == "大折扣审批"


def test_the_directors_large_contract_skips_the_managers_and_goes_to_finance(people, customer):
    # The director's unit manager is himself (he is never his own approver) and nobody
    # manages the unit above: both manager steps are skipped, finance decides.
    director = people["director"]
    contract = services.create_contract(
        customer=customer, title="总监大单", amount=900000, by=director, owner=director
    )
    pending = services.submit_contract(contract, by=director)
    assert pending.status == "pending"
    request = approvals.pending_request(pending)
    steps = [(s.name, [u.username for u in s.approvers.all()]) for s in request.steps.all()]
    assert steps == [("财务审核", ["finance1"])]
    assert request.actions.filter(kind="skip").count() == 2


def test_a_step_nobody_can_take_refuses_the_submission(people, customer):
    # finance1 is the only holder of the finance role: the last step finds nobody.
    finance1 = people["finance1"]
    contract = services.create_contract(
        customer=customer, title="财务代签", amount=900000, by=finance1, owner=finance1
    )
    with pytest.raises(ValidationError) as caught:
        services.submit_contract(contract, by=finance1)
    assert "flow" in caught.value.error_dict
    assert Contract.objects.get(pk=contract.pk).status == "draft"


def _contract(owner, customer, number, status):
    return records.contract(owner, customer, number=number, status=status)


def test_a_handover_moves_the_contracts_in_progress(people, rep_east, customer):
    numbers = {
        status: _contract(rep_east, customer, f"HO-{status}", status).pk
        for status in ("draft", "pending", "effective", "completed", "terminated")
    }
    moved = handover.hand_over(
        rep_east, to=people["rep_east2"], reason="离职交接", by=people["manager_east"]
    )
    assert moved["contracts"] == 3
    owners = dict(Contract.objects.values_list("status", "owner__username"))
    assert owners == {
        "draft": "rep_east2",
        "pending": "rep_east2",
        "effective": "rep_east2",
        "completed": "rep_east1",
        "terminated": "rep_east1",
    }
    assert set(numbers) == set(owners)


def test_a_rep_cannot_hand_over_contracts(people, rep_east, customer):
    _contract(rep_east, customer, "HO-1", "effective")
    holding = next(
        h for h in handover.holdings(rep_east, by=people["rep_east2"]) if h.kind.key == "contracts"
    )
    assert (holding.count, holding.allowed) == (1, 0)


def test_merging_customers_moves_contracts_payments_and_invoices(people, rep_east, customer):
    duplicate = create_customer(by=rep_east, short_name="腾达精密科技")
    contract = records.contract(rep_east, duplicate, number="MERGE-1")
    payment = records.payment(contract, amount="1000", by=people["finance1"])
    invoice = records.invoice(contract, amount="1000", number="FP0001")
    merge_customers(keep=customer, merge=duplicate, by=people["manager_east"])
    assert Contract.objects.get(pk=contract.pk).customer == customer
    assert Payment.objects.get(pk=payment.pk).customer == customer
    assert Invoice.objects.get(pk=invoice.pk).customer == customer
    assert list(customer.payments.all()) == [payment]
    assert list(customer.invoices.all()) == [invoice]


def test_the_approval_hooks_are_plain_functions_of_the_target(rep_east, large_draft):
    pending = services.submit_contract(large_draft, by=rep_east)
    request = approvals.pending_request(pending)
    hooks.on_sent_back(pending, request, rep_east)
    assert Contract.objects.get(pk=pending.pk).status == "draft"
    # Called on a draft it changes nothing.
    draft = Contract.objects.get(pk=pending.pk)
    hooks.on_sent_back(draft, request, rep_east)
    assert Contract.objects.get(pk=pending.pk).version == draft.version
    hooks.on_approved(draft, request, rep_east)
    stored = Contract.objects.get(pk=pending.pk)
    assert stored.status == "effective"
    assert stored.effective_at <= timezone.now()
