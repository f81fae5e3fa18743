"""The contracts API: contracts with their approval history, payment plan and attachments,
payments received, invoices and the contract settings (parse → service → schema).

Every record is read within the caller's data scope (out of it: 404; seen but not his to
change: 403); the records a body points at (customer, opportunity, contract, instalments …)
are looked up within his scope too, and one he may not see is a 400 naming the field, never a
hint that it exists. Writes go through ``tuoke.contracts.services`` (contracts, renewals,
attachments), ``tuoke.contracts.payments`` (payment plans, payments) and
``tuoke.contracts.invoices``."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from tuoke.core import lists, sequences
from tuoke.core.api import (
    ERRORS,
    WRITE_ERRORS,
    PagePagination,
    PersonRef,
    RecordId,
    Ref,
    Text,
    VersionedPatch,
    custom_object,
    required,
    required_after_fetch,
    resolve,
    sent,
)
from tuoke.core.custom_fields import fields_for_request, visible_values
from tuoke.core.errors import ErrorCode, field_error, fields_renamed
from tuoke.core.models import Action
from tuoke.core.scope import get_for, get_for_action, require
from tuoke.customers.models import Customer
from tuoke.org.models import User
from tuoke.sales.models import Opportunity

from . import invoices, payments, services
from .models import (
    Contract,
    ContractAttachment,
    ContractSettings,
    ContractStatus,
    CreditRule,
    Instalment,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
)

router = Router(tags=["contracts"])

# --- Schemas: contracts -----------------------------------------------------------------------


def _ref(record: Any) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"id": record.pk, "name": getattr(record, "display_name", None) or str(record)}


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "display_name": str(user)}


Money = Field(ge=0, max_digits=16, decimal_places=2)
Currency = Field("CNY", min_length=3, max_length=3, description="ISO 4217 code", examples=["CNY"])


class ContractOut(Schema):
    id: int
    number: str = Field(examples=["HT202607-0012"])
    title: str = Field(examples=["腾达精密 2026 年五轴设备采购合同"])
    customer: Ref
    opportunity: Ref | None
    amount: Decimal = Field(examples=["1360000.00"])
    currency: str = Field(examples=["CNY"])
    discount: Decimal | None = Field(description="Discount in percent", examples=["12.50"])
    signed_on: date | None = Field(examples=["2026-07-15"])
    starts_on: date | None = Field(examples=["2026-08-01"])
    ends_on: date | None = Field(examples=["2027-07-31"])
    owner: PersonRef
    status: ContractStatus
    effective_at: datetime | None = Field(description="When it became effective")
    closed_at: datetime | None = Field(description="When it was completed or terminated")
    termination_reason: str
    renews: Ref | None = Field(description="The contract this one renews")
    description: str
    received_amount: Decimal = Field(
        description="Money confirmed by finance as received", examples=["408000.00"]
    )
    outstanding: Decimal = Field(description="amount − received_amount", examples=["952000.00"])
    custom: dict[str, Any] = Field(
        description="Custom field values by key", json_schema_extra=custom_object("contract")
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_customer(contract: Contract) -> dict[str, Any] | None:
        return _ref(contract.customer)

    @staticmethod
    def resolve_opportunity(contract: Contract) -> dict[str, Any] | None:
        return _ref(contract.opportunity) if contract.opportunity_id else None

    @staticmethod
    def resolve_owner(contract: Contract) -> dict[str, Any] | None:
        return _person(contract.owner)

    @staticmethod
    def resolve_renews(contract: Contract) -> dict[str, Any] | None:
        return _ref(contract.renews) if contract.renews_id else None

    @staticmethod
    def resolve_custom(contract: Contract, context: dict[str, Any] | None) -> dict[str, Any]:
        fields = fields_for_request((context or {}).get("request"), "contract")
        return visible_values("contract", contract.custom, fields=fields)


class ContractFilters(Schema):
    q: Text | None = Field(
        None, max_length=100, description="Part of the number, the title or the customer's name"
    )
    status: ContractStatus | None = None
    owner: RecordId | None = Field(None, description="Owner's user id")
    customer: RecordId | None = Field(None, description="Customer id")
    opportunity: RecordId | None = Field(None, description="Opportunity id")
    ends_after: date | None = Field(None, description="Ends on or after this day")
    ends_before: date | None = Field(None, description="Ends on or before this day")
    sort: Literal[
        "-updated_at",
        "updated_at",
        "-created_at",
        "created_at",
        "number",
        "-number",
        "amount",
        "-amount",
        "signed_on",
        "-signed_on",
        "ends_on",
        "-ends_on",
    ] = "-updated_at"


class InstalmentIn(Schema):
    id: RecordId | None = Field(
        None, description="An instalment of this contract's plan to keep (omit for a new one)"
    )
    due_on: date = Field(examples=["2026-09-30"])
    amount: Decimal = Field(gt=0, max_digits=16, decimal_places=2, examples=["408000.00"])
    note: Text = Field("", max_length=200, examples=["预付款 30%"])


class ContractFacts(Schema):
    title: Text | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Default: the opportunity's title",
        examples=["腾达精密 2026 年五轴设备采购合同"],
    )
    amount: Decimal | None = Field(
        None,
        ge=0,
        max_digits=16,
        decimal_places=2,
        description="Default: the opportunity's amount",
        examples=["1360000.00"],
    )
    currency: Text | None = Field(
        None, min_length=3, max_length=3, description="Default: the opportunity's, else CNY"
    )
    discount: Decimal | None = Field(
        None, ge=0, le=100, max_digits=5, decimal_places=2, description="In percent"
    )
    signed_on: date | None = Field(None, examples=["2026-07-15"])
    starts_on: date | None = Field(None, examples=["2026-08-01"])
    ends_on: date | None = Field(None, examples=["2027-07-31"])
    description: Text = Field("", max_length=5000)


class ContractCreate(ContractFacts):
    customer_id: RecordId | None = Field(
        None, description="Required unless an opportunity is given", examples=[12]
    )
    opportunity_id: RecordId | None = Field(
        None, description="The deal it comes from: fills customer, title, amount and currency"
    )
    owner_id: RecordId | None = Field(None, description="Default: the opportunity's owner or you")
    number: Text = Field(
        "", max_length=40, description="Default: the next number of the contract sequence"
    )
    renews_id: RecordId | None = Field(None, description="The contract this one renews")
    instalments: list[InstalmentIn] = Field(
        default_factory=list, max_length=120, description="The payment plan"
    )
    custom: dict[str, Any] = Field(
        default_factory=dict,
        description="Custom field values by key; required custom fields must be given",
        json_schema_extra=custom_object("contract", enforce_required=True),
    )


class ContractUpdate(VersionedPatch):
    title: Text | None = Field(None, min_length=1, max_length=200)
    customer_id: RecordId | None = None
    opportunity_id: RecordId | None = Field(None, description="null: none")
    owner_id: RecordId | None = None
    renews_id: RecordId | None = Field(None, description="null: none")
    number: Text | None = Field(None, min_length=1, max_length=40)
    amount: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    currency: Text | None = Field(None, min_length=3, max_length=3)
    discount: Decimal | None = Field(
        None, ge=0, le=100, max_digits=5, decimal_places=2, description="null clears it"
    )
    signed_on: date | None = Field(None, description="null clears it")
    starts_on: date | None = Field(None, description="null clears it")
    ends_on: date | None = Field(None, description="null clears it")
    description: Text | None = Field(None, max_length=5000)
    custom: dict[str, Any] | None = Field(
        None,
        description="Only the keys sent change; a key set to null clears it",
        json_schema_extra=custom_object("contract"),
    )


VersionCheck = Field(
    None, ge=0, le=2**31 - 1, description="Optional: the version you read (409 if it changed)"
)


class ContractSubmitIn(Schema):
    comment: Text = Field("", max_length=2000, examples=["客户要求 8 月前签署"])
    version: int | None = VersionCheck


class ContractWithdrawIn(Schema):
    comment: Text = Field("", max_length=2000, examples=["金额需要重新谈"])


class ContractCompleteIn(Schema):
    version: int | None = VersionCheck


class ContractTerminateIn(Schema):
    reason: Text | None = Field(None, max_length=500, examples=["客户经营困难，双方协商终止"])
    version: int | None = VersionCheck

    model_config = {"json_schema_extra": required_after_fetch("reason")}


class ContractApprovalStepOut(Schema):
    position: int = Field(examples=[1])
    name: str = Field(examples=["部门经理审批"])
    approver_kind: str = Field(examples=["unit_manager"])
    mode: str = Field(description="`any`: one of them decides; `all`: each of them")
    status: str = Field(examples=["approved"])
    decided_at: datetime | None
    approvers: list[PersonRef]

    @staticmethod
    def resolve_approvers(step: Any) -> list[dict[str, Any]]:
        return [_person(u) for u in step.approvers.all()]


class ContractApprovalActionOut(Schema):
    kind: str = Field(examples=["approve"])
    step: int | None = Field(description="Position of the step it was taken on")
    actor: PersonRef | None
    comment: str = Field(examples=["同意，注意回款节点"])
    at: datetime

    @staticmethod
    def resolve_step(action: Any) -> int | None:
        return action.step.position if action.step_id else None

    @staticmethod
    def resolve_actor(action: Any) -> dict[str, Any] | None:
        return _person(action.actor)


class ContractApprovalOut(Schema):
    id: int
    flow_name: str = Field(examples=["大额合同审批"])
    status: str = Field(examples=["pending"])
    current_step: int | None = Field(description="Position of the step now waiting")
    submitted_by: PersonRef
    submitted_at: datetime
    decided_at: datetime | None
    steps: list[ContractApprovalStepOut]
    actions: list[ContractApprovalActionOut] = Field(description="Oldest first")

    @staticmethod
    def resolve_submitted_by(request: Any) -> dict[str, Any] | None:
        return _person(request.owner)

    @staticmethod
    def resolve_steps(request: Any) -> list[Any]:
        return sorted(request.steps.all(), key=lambda s: s.position)

    @staticmethod
    def resolve_actions(request: Any) -> list[Any]:
        return sorted(request.actions.all(), key=lambda a: (a.at, a.pk))


class InstalmentOut(Schema):
    id: int
    position: int = Field(examples=[1])
    due_on: date = Field(examples=["2026-09-30"])
    amount: Decimal = Field(examples=["408000.00"])
    paid_amount: Decimal = Field(
        description="Confirmed payments matched to it", examples=["200000.00"]
    )
    outstanding: Decimal = Field(examples=["208000.00"])
    overdue: bool = Field(description="Past due and not fully paid")
    note: str = Field(examples=["预付款 30%"])

    @staticmethod
    def resolve_overdue(instalment: Instalment) -> bool:
        return instalment.due_on < _today() and instalment.outstanding > 0


class InstalmentPlanIn(Schema):
    instalments: list[InstalmentIn] | None = Field(
        None, max_length=120, description="The whole plan: instalments left out are removed"
    )
    version: int | None = Field(
        None, ge=0, le=2**31 - 1, description="Required: the contract's version you read"
    )

    model_config = {"json_schema_extra": required_after_fetch("instalments", "version")}


class ContractAttachmentOut(Schema):
    id: int
    name: str = Field(examples=["合同扫描件.pdf"])
    size: int = Field(description="Bytes", examples=[482133])
    content_type: str = Field(examples=["application/pdf"])
    uploaded_by: PersonRef | None
    created_at: datetime
    url: str = Field(
        description="Where to download it", examples=["/api/v1/contract-attachments/3"]
    )

    @staticmethod
    def resolve_uploaded_by(attachment: ContractAttachment) -> dict[str, Any] | None:
        return _person(attachment.created_by)

    @staticmethod
    def resolve_url(attachment: ContractAttachment) -> str:
        return f"/api/v1/contract-attachments/{attachment.pk}"


# --- Schemas: payments ------------------------------------------------------------------------


class PaymentAllocationOut(Schema):
    instalment_id: int
    position: int = Field(description="The instalment's number in the plan", examples=[1])
    due_on: date
    amount: Decimal = Field(examples=["200000.00"])

    @staticmethod
    def resolve_position(allocation: PaymentAllocation) -> int:
        return allocation.instalment.position

    @staticmethod
    def resolve_due_on(allocation: PaymentAllocation) -> date:
        return allocation.instalment.due_on


class PaymentOut(Schema):
    id: int
    contract: Ref
    customer: Ref
    owner: PersonRef = Field(description="The contract's owner")
    amount: Decimal = Field(examples=["200000.00"])
    currency: str = Field(examples=["CNY"])
    received_on: date = Field(examples=["2026-08-03"])
    method: PaymentMethod
    reference: str = Field(examples=["CMB20260803-1182"])
    note: str
    status: PaymentStatus
    over_payment: bool = Field(description="Allowed to take the contract above its amount")
    recorded_by: PersonRef | None
    confirmed_by: PersonRef | None
    confirmed_at: datetime | None
    allocations: list[PaymentAllocationOut] = Field(
        description="The instalments it was matched to (once confirmed)"
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_contract(payment: Payment) -> dict[str, Any] | None:
        return _ref(payment.contract)

    @staticmethod
    def resolve_customer(payment: Payment) -> dict[str, Any] | None:
        return _ref(payment.customer)

    @staticmethod
    def resolve_owner(payment: Payment) -> dict[str, Any] | None:
        return _person(payment.contract.owner)

    @staticmethod
    def resolve_recorded_by(payment: Payment) -> dict[str, Any] | None:
        return _person(payment.created_by)

    @staticmethod
    def resolve_confirmed_by(payment: Payment) -> dict[str, Any] | None:
        return _person(payment.confirmed_by)


class PaymentFilters(Schema):
    contract: RecordId | None = Field(None, description="Contract id")
    customer: RecordId | None = Field(None, description="Customer id")
    owner: RecordId | None = Field(None, description="The contract owner's user id")
    status: PaymentStatus | None = Field(
        None, description="`unconfirmed`: those awaiting finance (finance's queue)"
    )
    method: PaymentMethod | None = None
    received_from: date | None = Field(None, description="Received on or after this day")
    received_until: date | None = Field(None, description="Received on or before this day")
    sort: Literal[
        "-received_on", "received_on", "-amount", "amount", "-created_at", "created_at"
    ] = "-received_on"


class PaymentAllocationIn(Schema):
    instalment_id: RecordId = Field(examples=[41])
    amount: Decimal = Field(gt=0, max_digits=16, decimal_places=2, examples=["200000.00"])


class PaymentCreate(Schema):
    contract_id: RecordId = Field(examples=[7])
    amount: Decimal = Field(gt=0, max_digits=16, decimal_places=2, examples=["200000.00"])
    received_on: date = Field(examples=["2026-08-03"])
    method: PaymentMethod = PaymentMethod.BANK_TRANSFER
    reference: Text = Field("", max_length=100, examples=["CMB20260803-1182"])
    note: Text = Field("", max_length=500)
    over_payment: bool = Field(
        False,
        description="Finance only: let the received total exceed the contract's amount",
    )
    allocations: list[PaymentAllocationIn] | None = Field(
        None,
        max_length=120,
        description="How to match it to instalments (default: the oldest due first)",
    )


class PaymentConfirmIn(Schema):
    allocations: list[PaymentAllocationIn] | None = Field(
        None, max_length=120, description="Default: the oldest instalments due first"
    )
    version: int | None = VersionCheck


class PaymentRejectIn(Schema):
    reason: Text | None = Field(None, max_length=500, examples=["银行流水中未找到这笔款"])
    version: int | None = VersionCheck

    model_config = {"json_schema_extra": required_after_fetch("reason")}


# --- Schemas: invoices ------------------------------------------------------------------------


class InvoiceOut(Schema):
    id: int
    contract: Ref
    customer: Ref
    owner: PersonRef = Field(description="The contract's owner")
    number: str = Field(examples=["04400261120012345678"])
    kind: InvoiceKind
    amount: Decimal = Field(description="Including tax", examples=["113000.00"])
    currency: str = Field(examples=["CNY"])
    tax_rate: Decimal = Field(description="In percent", examples=["13.00"])
    tax_amount: Decimal = Field(examples=["13000.00"])
    issued_on: date | None
    status: InvoiceStatus
    note: str
    requested_by: PersonRef | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_contract(invoice: Invoice) -> dict[str, Any] | None:
        return _ref(invoice.contract)

    @staticmethod
    def resolve_customer(invoice: Invoice) -> dict[str, Any] | None:
        return _ref(invoice.customer)

    @staticmethod
    def resolve_owner(invoice: Invoice) -> dict[str, Any] | None:
        return _person(invoice.contract.owner)

    @staticmethod
    def resolve_requested_by(invoice: Invoice) -> dict[str, Any] | None:
        return _person(invoice.created_by)


class InvoiceFilters(Schema):
    q: Text | None = Field(None, max_length=100, description="Part of the invoice number")
    contract: RecordId | None = Field(None, description="Contract id")
    customer: RecordId | None = Field(None, description="Customer id")
    owner: RecordId | None = Field(None, description="The contract owner's user id")
    status: InvoiceStatus | None = None
    kind: InvoiceKind | None = None
    issued_from: date | None = Field(None, description="Issued on or after this day")
    issued_until: date | None = Field(None, description="Issued on or before this day")
    sort: Literal["-issued_on", "issued_on", "-amount", "amount", "-created_at", "created_at"] = (
        "-created_at"
    )


class InvoiceCreate(Schema):
    contract_id: RecordId = Field(examples=[7])
    amount: Decimal = Field(gt=0, max_digits=16, decimal_places=2, examples=["113000.00"])
    kind: InvoiceKind = InvoiceKind.VAT_SPECIAL
    tax_rate: Decimal = Field(
        Decimal("13"), ge=0, le=100, max_digits=5, decimal_places=2, examples=["13"]
    )
    number: Text = Field(
        "", max_length=40, description="Finance: with `issued_on`, the invoice is issued at once"
    )
    issued_on: date | None = None
    note: Text = Field("", max_length=500)


class InvoiceUpdate(VersionedPatch):
    kind: InvoiceKind | None = None
    amount: Decimal | None = Field(None, gt=0, max_digits=16, decimal_places=2)
    tax_rate: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    note: Text | None = Field(None, max_length=500)


class InvoiceIssueIn(Schema):
    number: Text | None = Field(None, max_length=40, examples=["04400261120012345678"])
    issued_on: date | None = Field(None, description="Default: today")
    version: int | None = VersionCheck

    model_config = {"json_schema_extra": required_after_fetch("number")}


class InvoiceVoidIn(Schema):
    reason: Text | None = Field(None, max_length=500, examples=["抬头开错，作废重开"])
    version: int | None = VersionCheck

    model_config = {"json_schema_extra": required_after_fetch("reason")}


# --- Schemas: settings ------------------------------------------------------------------------


class ContractSettingsOut(Schema):
    credit_rule: CreditRule = Field(
        description="`payment`: sales credit when finance confirms money received; "
        "`approval`: when the contract becomes effective"
    )
    renewal_horizon_days: int = Field(
        description="Contracts ending within this many days are due for renewal", examples=[60]
    )
    number_pattern: str = Field(
        description="Placeholders {yyyy} {yy} {mm} {dd} {seq} {seq:04}",
        examples=["HT{yyyy}{mm}-{seq:04}"],
    )
    number_reset: str = Field(description="`never`, `yearly` or `monthly`", examples=["yearly"])
    next_number: str = Field(
        description="What the next contract would be numbered", examples=["HT202607-0013"]
    )
    updated_at: datetime | None
    updated_by: PersonRef | None


class ContractSettingsIn(Schema):
    credit_rule: CreditRule | None = None
    renewal_horizon_days: int | None = Field(None, ge=1, le=365)
    number_pattern: Text | None = Field(None, min_length=1, max_length=60)
    number_reset: Literal["never", "yearly", "monthly"] | None = None


# --- Helpers ----------------------------------------------------------------------------------

# A service's argument → the input it came from, for the errors' ``field``.
INPUT_NAMES = {
    "customer": "customer_id",
    "opportunity": "opportunity_id",
    "owner": "owner_id",
    "renews": "renews_id",
    "contract": "contract_id",
}

# The numbering's errors name the sequence's own fields.
SETTINGS_INPUT_NAMES = {"pattern": "number_pattern", "reset": "number_reset"}

CONTRACT_SORTS = {
    "updated_at": "updated_at",
    "created_at": "created_at",
    "number": "number",
    "amount": "amount",
    "signed_on": "signed_on",
    "ends_on": "ends_on",
}
PAYMENT_SORTS = {"received_on": "received_on", "amount": "amount", "created_at": "created_at"}
INVOICE_SORTS = {"issued_on": "issued_on", "amount": "amount", "created_at": "created_at"}


def _contracts() -> QuerySet[Contract]:
    return Contract.objects.select_related("customer", "opportunity", "owner", "renews")


def _payments() -> QuerySet[Payment]:
    return Payment.objects.select_related(
        "contract__owner", "customer", "created_by", "confirmed_by"
    ).prefetch_related(
        Prefetch(
            "allocations",
            queryset=PaymentAllocation.objects.select_related("instalment").order_by(
                "instalment__due_on", "instalment__position", "pk"
            ),
        )
    )


def _invoices() -> QuerySet[Invoice]:
    return Invoice.objects.select_related("contract__owner", "customer", "created_by")


def _contract_for(user: User, contract_id: int, action: str = Action.VIEW) -> Contract:
    if action == Action.VIEW:
        return get_for(user, _contracts(), contract_id)
    return get_for_action(user, _contracts(), contract_id, action)


def _instalments(contract: Contract) -> list[Instalment]:
    return list(contract.instalments.order_by("due_on", "position", "pk"))


def _plan(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The instalments as the payments service takes them (``id`` kept for existing ones)."""
    return [
        {
            **({"id": row["id"]} if row.get("id") else {}),
            "due_on": row["due_on"],
            "amount": row["amount"],
            "note": row.get("note") or "",
        }
        for row in rows
    ]


@contextmanager
def _allocation_fields() -> Iterator[None]:
    """Errors the payments service names ``allocations.N.instalment`` name the input
    ``allocations.N.instalment_id``."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {_INSTALMENT_FIELD.sub(r"\1_id", f): e for f, e in exc.error_dict.items()}
        ) from exc


_INSTALMENT_FIELD = re.compile(r"^(allocations\.\d+\.instalment)$")


def _contract_for_money(user: User, contract_id: int, record_type: str) -> Contract:
    """The contract a new payment or invoice is for, among those the caller sees: another
    is a 400 on ``contract_id``. Whether he may record money for it (an approver reading it
    may not) the payments and invoices services decide (403)."""
    require(user, record_type, Action.CREATE)
    return resolve(user, Contract, contract_id, "contract_id")


def _today() -> date:
    return timezone.localdate()


# --- Contracts --------------------------------------------------------------------------------


@router.get("/contracts", response={200: list[ContractOut], **ERRORS})
@paginate(PagePagination)
def list_contracts(request: HttpRequest, filters: Query[ContractFilters]):
    """The contracts within the caller's data scope (and those he is asked to approve);
    filters and one sort key."""
    contracts = _contracts().visible_to(request.user)
    if filters.q:
        q = filters.q.strip()
        contracts = contracts.filter(
            Q(number__icontains=q)
            | Q(title__icontains=q)
            | Q(customer__short_name__icontains=q)
            | Q(customer__legal_name__icontains=q)
        )
    if filters.status:
        contracts = contracts.filter(status=filters.status)
    if filters.owner is not None:
        contracts = contracts.filter(owner_id=filters.owner)
    if filters.customer is not None:
        contracts = contracts.filter(customer_id=filters.customer)
    if filters.opportunity is not None:
        contracts = contracts.filter(opportunity_id=filters.opportunity)
    if filters.ends_after is not None:
        contracts = contracts.filter(ends_on__gte=filters.ends_after)
    if filters.ends_before is not None:
        contracts = contracts.filter(ends_on__lte=filters.ends_before)
    _sort, order = lists.ordering(
        filters.sort,
        CONTRACT_SORTS,
        default="-updated_at",
        nullable=("signed_on", "ends_on"),
    )
    return contracts.order_by(*order)


@router.post("/contracts", response={201: ContractOut, **WRITE_ERRORS})
def create_contract(request: HttpRequest, payload: ContractCreate):
    """Draft a contract. With `opportunity_id` the deal's customer, title, amount, currency
    and owner are the defaults (what a won deal offers to draft). The number comes from the
    contract sequence unless one is given (it must be free: 400 `number`). `instalments` is
    the payment plan (its total at most the amount)."""
    user = request.user
    require(user, Contract.record_type, Action.CREATE)
    data = payload.model_dump()
    opportunity = resolve(user, Opportunity, data["opportunity_id"], "opportunity_id")
    facts: dict[str, Any] = services.draft_from_opportunity(opportunity) if opportunity else {}
    if data["customer_id"] is not None:
        facts["customer"] = resolve(user, Customer, data["customer_id"], "customer_id")
    elif facts.get("customer") is not None:
        # The deal's customer, as the caller may see it (the deal is his, or his team's).
        facts["customer"] = resolve(user, Customer, facts["customer"].pk, "opportunity_id")
    if data["owner_id"] is not None:
        facts["owner"] = resolve(user, User, data["owner_id"], "owner_id")
    for name in ContractFacts.model_fields:
        if data[name] is None or (name == "description" and not data[name]):
            continue  # the opportunity's, if any, stands
        facts[name] = data[name]
    required(facts.get("customer"), "customer_id")
    required(facts.get("title"), "title")
    if facts.get("amount") is None:
        required(None, "amount")
    facts.setdefault("currency", "CNY")
    facts.pop("opportunity", None)
    with fields_renamed(INPUT_NAMES):
        contract = services.create_contract(
            by=user,
            opportunity=opportunity,
            number=data["number"],
            renews=resolve(user, Contract, data["renews_id"], "renews_id"),
            custom=data["custom"],
            instalments=_plan(data["instalments"]),
            **facts,
        )
    return Status(201, get_for(user, _contracts(), contract.pk))


@router.get("/contracts/{contract_id}", response={200: ContractOut, **ERRORS})
def get_contract(request: HttpRequest, contract_id: RecordId):
    return _contract_for(request.user, contract_id)


@router.patch("/contracts/{contract_id}", response={200: ContractOut, **WRITE_ERRORS})
def update_contract(request: HttpRequest, contract_id: RecordId, payload: ContractUpdate):
    """Change the facts sent; `version` must be the one you read (409 otherwise). Drafts
    are changed freely; a contract pending approval is read-only (400 `locked`); an
    effective, completed or terminated one keeps its terms: only `description` and
    `custom` change (400 `status` naming the field otherwise)."""
    user = request.user
    contract = _contract_for(user, contract_id, Action.EDIT)
    changes = sent(
        payload,
        nullable={
            "opportunity_id",
            "renews_id",
            "discount",
            "signed_on",
            "starts_on",
            "ends_on",
            "custom",
        },
    )
    if "customer_id" in changes:
        changes["customer"] = resolve(user, Customer, changes.pop("customer_id"), "customer_id")
    if "opportunity_id" in changes:
        changes["opportunity"] = resolve(
            user, Opportunity, changes.pop("opportunity_id"), "opportunity_id"
        )
    if "owner_id" in changes:
        changes["owner"] = resolve(user, User, changes.pop("owner_id"), "owner_id")
    if "renews_id" in changes:
        changes["renews"] = resolve(user, Contract, changes.pop("renews_id"), "renews_id")
    with fields_renamed(INPUT_NAMES):
        services.update_contract(contract, by=user, version=payload.version, **changes)
    return _contract_for(user, contract_id)


@router.delete("/contracts/{contract_id}", response={204: None, **WRITE_ERRORS})
def delete_contract(request: HttpRequest, contract_id: RecordId):
    """Move a draft (or terminated) contract to the recycle bin (restorable there)."""
    contract = _contract_for(request.user, contract_id, Action.DELETE)
    services.delete_contract(contract, by=request.user)
    return Status(204, None)


@router.post("/contracts/{contract_id}/submit", response={200: ContractOut, **WRITE_ERRORS})
def submit_contract(request: HttpRequest, contract_id: RecordId, payload: ContractSubmitIn):
    """Submit a draft for approval: the first approval flow whose conditions hold takes it
    (its first step's approvers are notified) and it is read-only while pending; with no
    flow that applies it becomes effective at once."""
    user = request.user
    contract = _contract_for(user, contract_id, Action.EDIT)
    with fields_renamed(INPUT_NAMES):
        services.submit_contract(
            contract, by=user, comment=payload.comment, version=payload.version
        )
    return _contract_for(user, contract_id)


@router.post("/contracts/{contract_id}/withdraw", response={200: ContractOut, **WRITE_ERRORS})
def withdraw_contract(request: HttpRequest, contract_id: RecordId, payload: ContractWithdrawIn):
    """Take a pending contract back from its approval (its submitter): it is a draft again."""
    user = request.user
    contract = _contract_for(user, contract_id, Action.EDIT)
    services.withdraw_contract(contract, by=user, comment=payload.comment)
    return _contract_for(user, contract_id)


@router.post("/contracts/{contract_id}/complete", response={200: ContractOut, **WRITE_ERRORS})
def complete_contract(request: HttpRequest, contract_id: RecordId, payload: ContractCompleteIn):
    """Mark an effective contract completed."""
    user = request.user
    contract = _contract_for(user, contract_id, Action.EDIT)
    services.complete_contract(contract, by=user, version=payload.version)
    return _contract_for(user, contract_id)


@router.post("/contracts/{contract_id}/terminate", response={200: ContractOut, **WRITE_ERRORS})
def terminate_contract(request: HttpRequest, contract_id: RecordId, payload: ContractTerminateIn):
    """End an effective contract early, with a `reason` (required)."""
    user = request.user
    contract = _contract_for(user, contract_id, Action.EDIT)
    reason = required(payload.reason, "reason")
    services.terminate_contract(contract, by=user, reason=reason, version=payload.version)
    return _contract_for(user, contract_id)


@router.post("/contracts/{contract_id}/renew", response={201: ContractOut, **WRITE_ERRORS})
def renew_contract(request: HttpRequest, contract_id: RecordId):
    """Draft the renewal of a contract: same customer, owner, currency and amount, dates
    following on, `renews` pointing at it. Answers the new draft."""
    user = request.user
    contract = _contract_for(user, contract_id)
    require(user, Contract.record_type, Action.CREATE)
    if not Contract.objects.visible_to(user, Action.EDIT).filter(pk=contract.pk).exists():
        raise PermissionDenied(_("You do not have permission to do this."))
    renewal = services.renew_contract(contract, by=user)
    return Status(201, get_for(user, _contracts(), renewal.pk))


@router.get(
    "/contracts/{contract_id}/approvals", response={200: list[ContractApprovalOut], **ERRORS}
)
def contract_approvals(request: HttpRequest, contract_id: RecordId):
    """The contract's approval requests, newest first, each with its steps (approvers as
    they were resolved when it was submitted) and its actions with comments."""
    from tuoke.org import approvals

    contract = _contract_for(request.user, contract_id)
    return approvals.history(contract)


# --- Payment plan -----------------------------------------------------------------------------


@router.get("/contracts/{contract_id}/instalments", response={200: list[InstalmentOut], **ERRORS})
def list_instalments(request: HttpRequest, contract_id: RecordId):
    """The contract's payment plan, by due date, with what was paid on each."""
    contract = _contract_for(request.user, contract_id)
    return _instalments(contract)


@router.put(
    "/contracts/{contract_id}/instalments", response={200: list[InstalmentOut], **WRITE_ERRORS}
)
def set_instalments(request: HttpRequest, contract_id: RecordId, payload: InstalmentPlanIn):
    """Replace the payment plan (drafts and effective contracts): instalments with an `id`
    are kept and changed, the others are new, those left out are removed. Their total may
    not exceed the contract's amount (400 `instalments`); an instalment with money matched
    can neither go below what was paid nor be removed. `version` is the contract's."""
    user = request.user
    contract = _contract_for(user, contract_id, Action.EDIT)
    required(payload.instalments, "instalments")
    version = required(payload.version, "version")
    rows = payload.model_dump()["instalments"]
    payments.set_payment_plan(contract, instalments=_plan(rows), by=user, version=version)
    return _instalments(contract)


# --- Attachments ------------------------------------------------------------------------------


@router.get(
    "/contracts/{contract_id}/attachments",
    response={200: list[ContractAttachmentOut], **ERRORS},
)
def list_attachments(request: HttpRequest, contract_id: RecordId):
    """The files kept with the contract, oldest first."""
    contract = _contract_for(request.user, contract_id)
    return list(contract.attachments.select_related("created_by").order_by("created_at", "pk"))


@router.post(
    "/contracts/{contract_id}/attachments",
    response={201: ContractAttachmentOut, **WRITE_ERRORS},
)
def upload_attachment(request: HttpRequest, contract_id: RecordId, file: File[UploadedFile] = None):
    """Upload a file (multipart form, field `file`): PDF, image, Word, Excel or ZIP up to
    the size limit (20 MB by default); its type is checked by its content too. A wrong size
    or type is 400 on `file`."""
    user = request.user
    contract = _contract_for(user, contract_id, Action.EDIT)
    attachment = services.add_attachment(contract, upload=file, by=user)
    return Status(201, attachment)


def _attachment(user: User, attachment_id: int, action: str = Action.VIEW) -> ContractAttachment:
    """An attachment through its contract's scope (it has none of its own)."""
    attachment = (
        ContractAttachment.objects.select_related("created_by").filter(pk=attachment_id).first()
    )
    if attachment is None:
        raise Http404
    _contract_for(user, attachment.contract_id, action)
    return attachment


@router.get(
    "/contract-attachments/{attachment_id}",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            200: {
                "description": "The file",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def download_attachment(request: HttpRequest, attachment_id: RecordId):
    """The file itself, for anyone who may see its contract."""
    attachment = _attachment(request.user, attachment_id)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )


@router.delete("/contract-attachments/{attachment_id}", response={204: None, **WRITE_ERRORS})
def delete_attachment(request: HttpRequest, attachment_id: RecordId):
    """Remove a file from its contract (those who may edit the contract)."""
    attachment = _attachment(request.user, attachment_id, Action.EDIT)
    services.remove_attachment(attachment, by=request.user)
    return Status(204, None)


# --- Payments ---------------------------------------------------------------------------------


@router.get("/payments", response={200: list[PaymentOut], **ERRORS}, tags=["payments"])
@paginate(PagePagination)
def list_payments(request: HttpRequest, filters: Query[PaymentFilters]):
    """Payments on the contracts within the caller's scope, newest received first;
    `status=unconfirmed` is finance's queue of payments to confirm."""
    found = _payments().visible_to(request.user)
    if filters.contract is not None:
        found = found.filter(contract_id=filters.contract)
    if filters.customer is not None:
        found = found.filter(customer_id=filters.customer)
    if filters.owner is not None:
        found = found.filter(contract__owner_id=filters.owner)
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.method:
        found = found.filter(method=filters.method)
    if filters.received_from is not None:
        found = found.filter(received_on__gte=filters.received_from)
    if filters.received_until is not None:
        found = found.filter(received_on__lte=filters.received_until)
    _sort, order = lists.ordering(filters.sort, PAYMENT_SORTS, default="-received_on")
    return found.order_by(*order)


@router.post("/payments", response={201: PaymentOut, **WRITE_ERRORS}, tags=["payments"])
def create_payment(request: HttpRequest, payload: PaymentCreate):
    """Record money received for an effective (or completed) contract. Finance's payments
    are confirmed at once; a rep's wait for finance (`unconfirmed`). The received total may
    not exceed the contract's amount unless finance sets `over_payment` (400 `amount`)."""
    user = request.user
    contract = _contract_for_money(user, payload.contract_id, Payment.record_type)
    data = payload.model_dump()
    with fields_renamed(INPUT_NAMES), _allocation_fields():
        payment = payments.record_payment(
            contract=contract,
            amount=payload.amount,
            received_on=payload.received_on,
            method=payload.method,
            reference=payload.reference,
            note=payload.note,
            over_payment=payload.over_payment,
            allocations=data["allocations"],
            by=user,
        )
    return Status(201, get_for(user, _payments(), payment.pk))


@router.get("/payments/{payment_id}", response={200: PaymentOut, **ERRORS}, tags=["payments"])
def get_payment(request: HttpRequest, payment_id: RecordId):
    return get_for(request.user, _payments(), payment_id)


@router.delete("/payments/{payment_id}", response={204: None, **WRITE_ERRORS}, tags=["payments"])
def delete_payment(request: HttpRequest, payment_id: RecordId):
    """Remove a payment: an unconfirmed one by whoever recorded it or finance; a confirmed
    one by finance only, which takes back its matches to instalments and its sales credit."""
    user = request.user
    payment = get_for(user, _payments(), payment_id)
    payments.delete_payment(payment, by=user)  # it decides who may (else 403)
    return Status(204, None)


@router.post(
    "/payments/{payment_id}/confirm", response={200: PaymentOut, **WRITE_ERRORS}, tags=["payments"]
)
def confirm_payment(request: HttpRequest, payment_id: RecordId, payload: PaymentConfirmIn):
    """Finance confirms a payment a rep recorded: it counts as received, is matched to the
    instalments (`allocations`, or the oldest due first) and earns sales credit under the
    `payment` credit rule."""
    user = request.user
    payment = get_for_action(user, _payments(), payment_id, Action.APPROVE)
    with _allocation_fields():
        payments.confirm_payment(
            payment,
            by=user,
            allocations=payload.model_dump()["allocations"],
            version=payload.version,
        )
    return get_for(user, _payments(), payment_id)


@router.post(
    "/payments/{payment_id}/reject", response={200: PaymentOut, **WRITE_ERRORS}, tags=["payments"]
)
def reject_payment(request: HttpRequest, payment_id: RecordId, payload: PaymentRejectIn):
    """Finance refuses a payment awaiting confirmation (not found on the account …), with a
    `reason`."""
    user = request.user
    payment = get_for_action(user, _payments(), payment_id, Action.APPROVE)
    reason = required(payload.reason, "reason")
    payments.reject_payment(payment, by=user, reason=reason, version=payload.version)
    return get_for(user, _payments(), payment_id)


# --- Invoices ---------------------------------------------------------------------------------


@router.get("/invoices", response={200: list[InvoiceOut], **ERRORS}, tags=["invoices"])
@paginate(PagePagination)
def list_invoices(request: HttpRequest, filters: Query[InvoiceFilters]):
    """Invoices of the contracts within the caller's scope."""
    found = _invoices().visible_to(request.user)
    if filters.q:
        found = found.filter(number__icontains=filters.q.strip())
    if filters.contract is not None:
        found = found.filter(contract_id=filters.contract)
    if filters.customer is not None:
        found = found.filter(customer_id=filters.customer)
    if filters.owner is not None:
        found = found.filter(contract__owner_id=filters.owner)
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.kind:
        found = found.filter(kind=filters.kind)
    if filters.issued_from is not None:
        found = found.filter(issued_on__gte=filters.issued_from)
    if filters.issued_until is not None:
        found = found.filter(issued_on__lte=filters.issued_until)
    _sort, order = lists.ordering(
        filters.sort, INVOICE_SORTS, default="-created_at", nullable=("issued_on",)
    )
    return found.order_by(*order)


@router.post("/invoices", response={201: InvoiceOut, **WRITE_ERRORS}, tags=["invoices"])
def create_invoice(request: HttpRequest, payload: InvoiceCreate):
    """Request an invoice for a contract (`requested`); finance giving `number` and
    `issued_on` issues it at once."""
    user = request.user
    contract = _contract_for_money(user, payload.contract_id, Invoice.record_type)
    with fields_renamed(INPUT_NAMES):
        invoice = invoices.create_invoice(
            contract=contract,
            amount=payload.amount,
            kind=payload.kind,
            tax_rate=payload.tax_rate,
            number=payload.number,
            issued_on=payload.issued_on,
            note=payload.note,
            by=user,
        )
    return Status(201, get_for(user, _invoices(), invoice.pk))


@router.get("/invoices/{invoice_id}", response={200: InvoiceOut, **ERRORS}, tags=["invoices"])
def get_invoice(request: HttpRequest, invoice_id: RecordId):
    return get_for(request.user, _invoices(), invoice_id)


@router.patch(
    "/invoices/{invoice_id}", response={200: InvoiceOut, **WRITE_ERRORS}, tags=["invoices"]
)
def update_invoice(request: HttpRequest, invoice_id: RecordId, payload: InvoiceUpdate):
    """Change a requested invoice's `amount`, `kind`, `tax_rate` or `note` (its requester or
    finance); of an issued one only the `note` (finance): a wrong issued invoice is voided
    and another issued. `version` must be the one you read (409 otherwise)."""
    user = request.user
    invoice = get_for(user, _invoices(), invoice_id)
    changes = sent(payload)
    invoices.update_invoice(invoice, by=user, version=payload.version, **changes)
    return get_for(user, _invoices(), invoice_id)


@router.delete("/invoices/{invoice_id}", response={204: None, **WRITE_ERRORS}, tags=["invoices"])
def delete_invoice(request: HttpRequest, invoice_id: RecordId):
    """Withdraw a requested invoice into the recycle bin (its requester or finance); an
    issued one is voided instead (400 `status`)."""
    invoice = get_for(request.user, _invoices(), invoice_id)
    invoices.delete_invoice(invoice, by=request.user)
    return Status(204, None)


@router.post(
    "/invoices/{invoice_id}/issue", response={200: InvoiceOut, **WRITE_ERRORS}, tags=["invoices"]
)
def issue_invoice(request: HttpRequest, invoice_id: RecordId, payload: InvoiceIssueIn):
    """Finance issues a requested invoice: its `number` (required) and `issued_on` (default
    today)."""
    user = request.user
    invoice = get_for_action(user, _invoices(), invoice_id, Action.EDIT)
    number = required(payload.number, "number")
    invoices.issue_invoice(
        invoice,
        number=number,
        issued_on=payload.issued_on,
        by=user,
        version=payload.version,
    )
    return get_for(user, _invoices(), invoice_id)


@router.post(
    "/invoices/{invoice_id}/void", response={200: InvoiceOut, **WRITE_ERRORS}, tags=["invoices"]
)
def void_invoice(request: HttpRequest, invoice_id: RecordId, payload: InvoiceVoidIn):
    """Finance voids an invoice, with a `reason` (required)."""
    user = request.user
    invoice = get_for_action(user, _invoices(), invoice_id, Action.EDIT)
    reason = required(payload.reason, "reason")
    invoices.void_invoice(invoice, by=user, reason=reason, version=payload.version)
    return get_for(user, _invoices(), invoice_id)


# --- Settings ---------------------------------------------------------------------------------


def _settings_out() -> dict[str, Any]:
    current = ContractSettings.objects.select_related("updated_by").get(
        pk=ContractSettings.current().pk
    )
    sequence = services.number_sequence()
    today = _today()
    period = sequences.period_of(sequence.reset, today)
    value = sequence.last_value + 1 if sequence.pk and sequence.period == period else 1
    return {
        "credit_rule": current.credit_rule,
        "renewal_horizon_days": current.renewal_horizon_days,
        "number_pattern": sequence.pattern,
        "number_reset": sequence.reset,
        "next_number": sequences.render(sequence.pattern, on=today, value=value),
        "updated_at": current.updated_at,
        "updated_by": _person(current.updated_by),
    }


@router.get("/contract-settings", response={200: ContractSettingsOut, **ERRORS})
def get_contract_settings(request: HttpRequest):
    """How contracts are numbered, when sales credit is given, and how early renewals are
    due (anyone who may see contracts)."""
    require(request.user, Contract.record_type, Action.VIEW)
    return _settings_out()


@router.patch("/contract-settings", response={200: ContractSettingsOut, **WRITE_ERRORS})
def update_contract_settings(request: HttpRequest, payload: ContractSettingsIn):
    """Change the settings sent (administrators: `administer` on contracts). A number
    pattern must contain `{seq}` (or `{seq:04}` …)."""
    user = request.user
    require(user, Contract.record_type, Action.ADMINISTER)
    changes = payload.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise field_error(name, _("This field cannot be null."), ErrorCode.REQUIRED)
    with fields_renamed(SETTINGS_INPUT_NAMES):
        services.update_settings(by=user, **changes)
    return _settings_out()
