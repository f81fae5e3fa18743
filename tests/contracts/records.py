"""Contract records for tests: customers, contracts with a payment plan, payments, invoices,
approval flows and requests built straight through the ORM, so that every part of the contracts
app (and the approval engine) can use them; the services are tested on their own.

rep_east1 (华东销售组, sales rep) may not reach anything made by the ``south_*`` functions (for
the access matrix); each is made once per test."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone


def customer(owner, short_name: str):
    from tuoke.customers.models import Customer
    from tuoke.customers.services import create_customer

    existing = Customer.objects.filter(short_name=short_name).first()
    return existing or create_customer(by=owner, short_name=short_name)


def contract(
    owner,
    a_customer,
    *,
    number: str,
    title: str = "年度服务合同",
    amount="100000",
    currency: str = "CNY",
    status: str = "effective",
    signed_on: date | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    renews=None,
    instalments: list[tuple[date, str]] = (),
):
    """A contract (effective unless told) with its instalments as (due on, amount)."""
    from tuoke.contracts.models import Contract, Instalment

    existing = Contract.all_objects.filter(number=number).first()
    if existing is not None:
        return existing
    today = timezone.localdate()
    made = Contract.objects.create(
        owner=owner,
        created_by=owner,
        customer=a_customer,
        number=number,
        title=title,
        amount=Decimal(amount),
        currency=currency,
        status=status,
        signed_on=signed_on or today - timedelta(days=30),
        starts_on=starts_on or today - timedelta(days=30),
        ends_on=ends_on or today + timedelta(days=335),
        effective_at=timezone.now() if status in ("effective", "completed") else None,
        renews=renews,
    )
    for position, (due_on, due) in enumerate(instalments, start=1):
        Instalment.objects.create(
            contract=made, position=position, due_on=due_on, amount=Decimal(due), created_by=owner
        )
    return made


def payment(
    a_contract, *, amount, received_on: date | None = None, confirmed: bool = True, by=None
):
    """A payment on the contract; a confirmed one is matched to its instalments oldest first
    and counted in the contract's received amount (as tuoke.contracts.payments does)."""
    from tuoke.contracts.models import Payment, PaymentAllocation

    made = Payment.objects.create(
        contract=a_contract,
        customer=a_contract.customer,
        amount=Decimal(amount),
        currency=a_contract.currency,
        received_on=received_on or timezone.localdate(),
        status="confirmed" if confirmed else "unconfirmed",
        created_by=by or a_contract.owner,
        confirmed_by=by if confirmed else None,
        confirmed_at=timezone.now() if confirmed else None,
    )
    if confirmed:
        left = made.amount
        for instalment in a_contract.instalments.order_by("due_on", "position"):
            share = min(left, instalment.amount - instalment.paid_amount)
            if share <= 0:
                continue
            PaymentAllocation.objects.create(payment=made, instalment=instalment, amount=share)
            instalment.paid_amount += share
            instalment.save(update_fields=["paid_amount"])
            left -= share
        a_contract.received_amount += made.amount
        a_contract.save(update_fields=["received_amount"])
    return made


def invoice(a_contract, *, amount, number: str = "", status: str = "issued"):
    from tuoke.contracts.models import Invoice

    return Invoice.objects.create(
        contract=a_contract,
        customer=a_contract.customer,
        number=number,
        amount=Decimal(amount),
        currency=a_contract.currency,
        issued_on=timezone.localdate() if status == "issued" else None,
        status=status,
        created_by=a_contract.owner,
    )


def south_contract(people):
    """An effective contract of rep_south1 with two instalments, one overdue."""
    today = timezone.localdate()
    return contract(
        people["rep_south1"],
        customer(people["rep_south1"], "南方客户"),
        number="HT-SOUTH-001",
        title="南方年度合同",
        amount="200000",
        instalments=[
            (today - timedelta(days=10), "100000"),
            (today + timedelta(days=60), "100000"),
        ],
    )


def south_payment(people):
    from tuoke.contracts.models import Payment

    existing = Payment.objects.filter(contract__number="HT-SOUTH-001").first()
    return existing or payment(south_contract(people), amount="50000", by=people["finance1"])


def south_invoice(people):
    from tuoke.contracts.models import Invoice

    existing = Invoice.objects.filter(contract__number="HT-SOUTH-001").first()
    return existing or invoice(south_contract(people), amount="50000", number="SOUTH0001")


def south_instalment(people):
    return south_contract(people).instalments.order_by("position").first()


def south_attachment(people):
    from django.core.files.base import ContentFile

    from tuoke.contracts.models import ContractAttachment

    made = south_contract(people)
    existing = ContractAttachment.objects.filter(contract=made).first()
    if existing is not None:
        return existing
    attachment = ContractAttachment(
        contract=made, name="signed.pdf", size=8, content_type="application/pdf"
    )
    attachment.file.save("signed.pdf", ContentFile(b"%PDF-1.4"), save=False)
    attachment.created_by = made.owner
    attachment.save()
    return attachment


def flow(
    name: str = "大额合同审批",
    *,
    target: str = "contract",
    conditions: list[dict] | None = None,
    steps: list[dict] | None = None,
    sort_order: int = 0,
):
    """An approval flow; by default contracts of 500,000 or more go to the submitter's unit
    manager, then that manager's manager, then the finance role (any one of them)."""
    from tuoke.org.models import ApprovalFlow, ApprovalStep, Role

    existing = ApprovalFlow.objects.filter(name=name).first()
    if existing is not None:
        return existing
    made = ApprovalFlow.objects.create(
        name=name,
        target=target,
        conditions=conditions
        if conditions is not None
        else [{"fact": "amount", "op": "gte", "value": "500000"}],
        sort_order=sort_order,
    )
    finance = Role.objects.filter(default_key="finance").first()
    for order, step in enumerate(
        steps
        or [
            {"name": "部门经理审批", "approver_kind": "unit_manager"},
            {"name": "销售总监审批", "approver_kind": "next_manager"},
            {"name": "财务审核", "approver_kind": "role", "role": finance},
        ]
    ):
        ApprovalStep.objects.create(flow=made, sort_order=order * 10, **step)
    return made


def pending_request(submitter, record, *, approvers_per_step: list[list], title: str = ""):
    """A request on ``record`` pending at its first step, with the given approvers per step
    (as tuoke.org.approvals.submit would have resolved them)."""
    from tuoke.org.models import ApprovalAction, ApprovalRequest, ApprovalRequestStep

    made = ApprovalRequest.objects.create(
        owner=submitter,
        created_by=submitter,
        flow_name="大额合同审批",
        target=record.record_type,
        object_id=record.pk,
        title=title or str(record),
        amount=getattr(record, "amount", None),
        currency=getattr(record, "currency", ""),
        status="pending",
        current_step=1,
        submitted_at=timezone.now(),
    )
    for position, approvers in enumerate(approvers_per_step, start=1):
        step = ApprovalRequestStep.objects.create(
            request=made,
            position=position,
            name=f"第{position}步",
            approver_kind="user",
            status="pending" if position == 1 else "waiting",
        )
        step.approvers.set(approvers)
    ApprovalAction.objects.create(request=made, kind="submit", actor=submitter)
    return made


def south_request(people):
    """rep_south1's contract pending with his manager (manager_south): not rep_east1's."""
    from tuoke.org.models import ApprovalRequest

    made = contract(
        people["rep_south1"],
        customer(people["rep_south1"], "南方客户"),
        number="HT-SOUTH-002",
        title="南方大额合同",
        amount="800000",
        status="pending",
    )
    existing = ApprovalRequest.objects.filter(object_id=made.pk, target="contract").first()
    return existing or pending_request(
        people["rep_south1"],
        made,
        approvers_per_step=[[people["manager_south"]], [people["finance1"]]],
    )
