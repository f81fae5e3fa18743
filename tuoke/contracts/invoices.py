"""Invoices of contracts (发票): reps request them for their effective contracts, finance issues
(or creates already issued) and voids them. The invoices of a contract that are not void never
add up to more than its amount, and a number is given once per invoice type.

Who may issue comes from the grants: edit on "invoice" reaching the contract (finance holds it
for every contract); requesting needs create on "invoice" (reps: their own contracts)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tuoke.core import services as core_services
from tuoke.core.errors import Conflict, ErrorCode, field_error
from tuoke.core.models import Action

from .models import Contract, ContractStatus, Invoice, InvoiceKind, InvoiceStatus
from .payments import _amount, _day, _lock, _money_text, _note_last_entry, _reaches, _text

if TYPE_CHECKING:
    from tuoke.org.models import User


class InvoiceError(StrEnum):
    """Error codes of invoices, beside the common ``ErrorCode``."""

    CONTRACT_STATUS = "contract_status"  # not an effective or completed contract
    OVER_CONTRACT = "over_contract"  # invoices above the contract's amount
    NUMBER_TAKEN = "number_taken"  # another invoice of the type has the number
    STATUS = "invoice_status"  # the invoice's status does not allow it


def _error(field: str, message: Any, code: InvoiceError | ErrorCode) -> ValidationError:
    return field_error(field, message, cast(ErrorCode, code))


NUMBER_MAX = 40
NOTE_MAX = 500
DEFAULT_TAX_RATE = Decimal("13")
COMMON_TAX_RATES = tuple(Decimal(r) for r in ("13", "9", "6", "3", "1", "0"))
# What may change on an invoice while it is requested, and once issued.
REQUESTED_FACTS = frozenset({"amount", "kind", "tax_rate", "note"})
ISSUED_FACTS = frozenset({"note"})


def may_issue(user: User, contract: Contract) -> bool:
    """Finance: may issue, void and correct the invoices of this contract."""
    return _reaches(user, Invoice.record_type, Action.EDIT, contract)


def may_request(user: User, contract: Contract) -> bool:
    return may_issue(user, contract) or _reaches(user, Invoice.record_type, Action.CREATE, contract)


def _kind(value: Any) -> str:
    if value not in InvoiceKind.values:
        raise _error("kind", _("Choose an invoice type."), ErrorCode.INVALID)
    return value


def _tax_rate(value: Any) -> Decimal:
    """A rate in percent between 0 and 100 (13, 9, 6, 3, 1 and 0 are the usual ones)."""
    if value is None or value == "":
        return DEFAULT_TAX_RATE
    try:
        rate = value if isinstance(value, Decimal) else Decimal(str(value).strip().rstrip("%"))
    except (InvalidOperation, ValueError, TypeError):
        raise _error("tax_rate", _("Enter a number."), ErrorCode.INVALID) from None
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise _error("tax_rate", _("Enter a tax rate between 0 and 100 (%)."), ErrorCode.INVALID)
    if rate != rate.quantize(Decimal("0.01")):
        raise _error(
            "tax_rate", _("Give the tax rate with at most two decimals."), ErrorCode.INVALID
        )
    return rate.quantize(Decimal("0.01"))


def _number(value: Any) -> str:
    number = _text(value, "number", NUMBER_MAX)
    return number


def _check_contract(contract: Contract) -> None:
    if contract.deleted_at is not None or contract.status not in (
        ContractStatus.EFFECTIVE,
        ContractStatus.COMPLETED,
    ):
        raise _error(
            "contract",
            _("Invoices are made for effective or completed contracts only."),
            InvoiceError.CONTRACT_STATUS,
        )


def check_restore(invoice: Invoice) -> None:
    """An invoice comes back from the recycle bin as it could be requested: for a contract
    still invoiced, within the contract's amount with its other invoices."""
    contract = _lock(invoice.contract)
    _check_contract(contract)
    if invoice.status != InvoiceStatus.VOID:
        _check_total(contract, invoice.amount)


def _check_total(contract: Contract, amount: Decimal, *, but: int | None = None) -> None:
    """The invoices of the contract that are not void, with this one, within its amount."""
    others = Invoice.objects.filter(contract=contract).exclude(status=InvoiceStatus.VOID)
    if but is not None:
        others = others.exclude(pk=but)
    invoiced = others.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    left = contract.amount - invoiced
    if amount > left:
        raise _error(
            "amount",
            _(
                "Invoices of this contract would add up to more than its amount of "
                "%(amount)s: %(left)s can still be invoiced."
            )
            % {
                "amount": _money_text(contract.amount, contract.currency),
                "left": _money_text(max(left, Decimal("0")), contract.currency),
            },
            InvoiceError.OVER_CONTRACT,
        )


def _check_number_free(number: str, kind: str, *, but: int | None = None) -> None:
    taken = Invoice.objects.filter(number=number, kind=kind).exclude(status=InvoiceStatus.VOID)
    if but is not None:
        taken = taken.exclude(pk=but)
    if taken.exists():
        raise _error(
            "number",
            _("Another invoice of this type has the number %(number)s.") % {"number": number},
            InvoiceError.NUMBER_TAKEN,
        )


@transaction.atomic
def create_invoice(
    *,
    contract: Contract,
    amount: Any,
    by: User,
    kind: str = InvoiceKind.VAT_SPECIAL,
    tax_rate: Any = DEFAULT_TAX_RATE,
    number: str = "",
    issued_on: date | str | None = None,
    note: str = "",
) -> Invoice:
    """Request an invoice for an effective (or completed) contract; finance may create it
    issued at once by giving its number (issued today unless ``issued_on`` says otherwise).
    The contract's invoices that are not void may not add up to more than its amount (for
    finance too: an invoice beyond the contract is a mistake; void one first)."""
    if contract is None:
        raise _error("contract", _("Choose a contract."), ErrorCode.REQUIRED)
    current = _lock(contract)
    _check_contract(current)
    if not may_request(by, current):
        raise PermissionDenied(_("You do not have permission to do this."))
    amount = _amount(amount, "amount")
    kind = _kind(kind)
    tax_rate = _tax_rate(tax_rate)
    number = _number(number)
    note = _text(note, "note", NOTE_MAX)
    issued = bool(number) or issued_on not in (None, "")
    if issued:
        if not may_issue(by, current):
            raise _error(
                "number",
                _("Finance gives the number when issuing the invoice."),
                ErrorCode.FORBIDDEN,
            )
        if not number:
            raise _error("number", _("Enter the invoice number."), ErrorCode.REQUIRED)
        issued_on = _day(issued_on, "issued_on") if issued_on else timezone.localdate()
        _check_number_free(number, kind)
    _check_total(current, amount)
    return core_services.create_record(
        Invoice,
        by=by,
        contract=current,
        customer_id=current.customer_id,
        number=number,
        kind=kind,
        amount=amount,
        currency=current.currency,
        tax_rate=tax_rate,
        issued_on=issued_on if issued else None,
        status=InvoiceStatus.ISSUED if issued else InvoiceStatus.REQUESTED,
        note=note,
    )


def _locked_invoice(invoice: Invoice, version: int | None) -> tuple[Contract, Invoice]:
    contract = _lock(invoice.contract)
    current = Invoice.all_objects.select_for_update().get(pk=invoice.pk)
    if current.deleted_at is not None:
        raise _error("status", _("This invoice was deleted."), InvoiceError.STATUS)
    if version is not None and version != current.version:
        raise Conflict()
    return contract, current


def _copy(invoice: Invoice, current: Invoice) -> Invoice:
    for field in Invoice._meta.concrete_fields:
        setattr(invoice, field.attname, getattr(current, field.attname))
    return invoice


@transaction.atomic
def issue_invoice(
    invoice: Invoice,
    *,
    number: str,
    issued_on: date | str | None,
    by: User,
    version: int | None = None,
) -> Invoice:
    """Finance issues a requested invoice under its number (issued today when no date)."""
    contract, current = _locked_invoice(invoice, version)
    if not may_issue(by, contract):
        raise PermissionDenied(_("You do not have permission to do this."))
    if current.status != InvoiceStatus.REQUESTED:
        raise _error("status", _("Only a requested invoice can be issued."), InvoiceError.STATUS)
    number = _number(number)
    if not number:
        raise _error("number", _("Enter the invoice number."), ErrorCode.REQUIRED)
    day = _day(issued_on, "issued_on") if issued_on not in (None, "") else timezone.localdate()
    _check_number_free(number, current.kind, but=current.pk)
    current = core_services.update_record(
        current, by=by, number=number, issued_on=day, status=InvoiceStatus.ISSUED
    )
    return _copy(invoice, current)


@transaction.atomic
def void_invoice(invoice: Invoice, *, by: User, reason: str, version: int | None = None) -> Invoice:
    """Finance voids an invoice (issued, or a request that will not be issued), saying why
    (kept in the audit trail). A void invoice no longer counts against the contract and
    its number may be given again."""
    contract, current = _locked_invoice(invoice, version)
    if not may_issue(by, contract):
        raise PermissionDenied(_("You do not have permission to do this."))
    reason = _text(reason, "reason", NOTE_MAX)
    if not reason:
        raise _error("reason", _("Say why the invoice is void."), ErrorCode.REQUIRED)
    if current.status == InvoiceStatus.VOID:
        raise _error("status", _("This invoice is already void."), InvoiceError.STATUS)
    current = core_services.update_record(current, by=by, status=InvoiceStatus.VOID)
    _note_last_entry(current, reason)
    return _copy(invoice, current)


def _may_change(by: User, contract: Contract, invoice: Invoice) -> bool:
    """Finance, or whoever requested it while it is only requested."""
    if may_issue(by, contract):
        return True
    return invoice.status == InvoiceStatus.REQUESTED and invoice.created_by_id == by.pk


@transaction.atomic
def update_invoice(
    invoice: Invoice, *, by: User, version: int | None = None, **facts: Any
) -> Invoice:
    """Change a requested invoice (amount, kind, tax rate, note) — its requester or finance;
    an issued one only keeps a new note (finance): a wrong issued invoice is voided and
    another issued. Raises Conflict when ``version`` is not the stored one."""
    contract, current = _locked_invoice(invoice, version)
    if not _may_change(by, contract, current):
        raise PermissionDenied(_("You do not have permission to do this."))
    allowed = {
        InvoiceStatus.REQUESTED: REQUESTED_FACTS,
        InvoiceStatus.ISSUED: ISSUED_FACTS,
    }.get(InvoiceStatus(current.status), frozenset())
    for name in facts:
        if name not in REQUESTED_FACTS | ISSUED_FACTS | {"number", "issued_on", "status"}:
            raise _error(name, _("This field cannot be changed."), ErrorCode.INVALID)
        if name not in allowed:
            message = (
                _("A void invoice cannot be changed.")
                if current.status == InvoiceStatus.VOID
                else _("An issued invoice cannot be changed: void it and issue another.")
                if current.status == InvoiceStatus.ISSUED
                else _("This is set when the invoice is issued.")
            )
            raise _error(name, message, InvoiceError.STATUS)
    changes: dict[str, Any] = {}
    if "amount" in facts:
        changes["amount"] = _amount(facts["amount"], "amount")
        _check_total(contract, changes["amount"], but=current.pk)
    if "kind" in facts:
        changes["kind"] = _kind(facts["kind"])
    if "tax_rate" in facts:
        changes["tax_rate"] = _tax_rate(facts["tax_rate"])
    if "note" in facts:
        changes["note"] = _text(facts["note"], "note", NOTE_MAX)
    current = core_services.update_record(current, by=by, **changes)
    return _copy(invoice, current)


@transaction.atomic
def delete_invoice(invoice: Invoice, *, by: User) -> None:
    """Withdraw a requested invoice (its requester or finance) into the recycle bin; issued
    ones are voided instead, never deleted."""
    contract, current = _locked_invoice(invoice, None)
    if not _may_change(by, contract, current):
        raise PermissionDenied(_("You do not have permission to do this."))
    if current.status != InvoiceStatus.REQUESTED:
        raise _error(
            "status",
            _("Only a requested invoice can be deleted: void an issued one."),
            InvoiceError.STATUS,
        )
    core_services.soft_delete(current, by=by)
    invoice.deleted_at = current.deleted_at


def invoiced_total(contract: Contract) -> Decimal:
    """What the contract's invoices that are not void add up to (one query)."""
    found = (
        Invoice.objects.filter(contract=contract)
        .exclude(status=InvoiceStatus.VOID)
        .aggregate(total=Sum("amount"))["total"]
    )
    return found or Decimal("0")
