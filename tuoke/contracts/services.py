"""Every write on contracts: drafting them (numbered from the "contract" sequence), editing
drafts, submitting them for approval (``tuoke.org.approvals``) and making them effective,
completing and terminating them, renewals, the recycle bin, handovers, attachments and the
contract settings. Payment plans, payments and sales credit are in ``tuoke.contracts.payments``,
invoices in ``tuoke.contracts.invoices``.

What may change when:
- a draft: every fact (customer, opportunity, title, amount, currency, discount, dates,
  number, owner, renewed contract, description, custom fields);
- pending approval: nothing (``ContractError.LOCKED``), not even its attachments; the
  submitter withdraws it first;
- effective, completed or terminated: only the description and the custom fields (the terms
  were approved); the owner changes through ``transfer_contracts`` (a manager's action).
"""

from __future__ import annotations

import calendar
import os
import re
import uuid
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import F, Sum
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from tuoke.core import audit, custom_fields, sequences
from tuoke.core import services as core_services
from tuoke.core.errors import Conflict, ErrorCode, field_error
from tuoke.core.models import Action, AuditEntry
from tuoke.core.scope import get_for, may_act_on, require
from tuoke.customers.models import Customer, LifecycleStatus
from tuoke.org.models import ApprovalStatus
from tuoke.sales.models import Opportunity

from .models import (
    Contract,
    ContractAttachment,
    ContractSettings,
    ContractStatus,
    CreditRule,
    Instalment,
    PaymentStatus,
)

if TYPE_CHECKING:
    from tuoke.org.models import ApprovalRequest, User


class ContractError(StrEnum):
    """Error codes of contracts, beside the common ``ErrorCode``."""

    LOCKED = "locked"  # pending approval: read-only
    STATUS = "status"  # not allowed in the contract's status
    NUMBER_TAKEN = "number_taken"
    OTHER_CUSTOMER = "other_customer"  # an opportunity or renewed contract of another customer
    RENEWED = "renewed"  # the contract has a renewal already
    FILE_TYPE = "file_type"
    FILE_SIZE = "file_size"
    BELOW_PLAN = "below_plan"  # the amount under the payment plan's total


def _error(field: str, message, code: ContractError | ErrorCode) -> ValidationError:
    return field_error(field, message, cast(ErrorCode, code))


def _label(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.verbose_name)


contract_effective = Signal()
"""Sent when a contract became effective, with ``contract`` and ``by``; inside the transaction
(receivers defer their side effects with ``transaction.on_commit``)."""

CONTRACT_SEQUENCE = "contract"
DEFAULT_NUMBER_PATTERN = "HT{yyyy}{mm}-{seq:04}"
TITLE_MAX = 200
NUMBER_MAX = 40
DESCRIPTION_MAX = 5000
REASON_MAX = 500
RENEWAL_SUFFIX = "（续约）"

DRAFT_FIELDS = frozenset(
    {
        "customer",
        "opportunity",
        "title",
        "amount",
        "currency",
        "discount",
        "signed_on",
        "starts_on",
        "ends_on",
        "number",
        "owner",
        "renews",
        "description",
        "custom",
    }
)
# An approved contract's terms stay as approved.
SETTLED_FIELDS = frozenset({"description", "custom"})
# Renewals that keep a contract from being renewed again (a terminated one does not).
LIVE_STATUSES = (
    ContractStatus.DRAFT,
    ContractStatus.PENDING,
    ContractStatus.EFFECTIVE,
    ContractStatus.COMPLETED,
)


# --- Facts --------------------------------------------------------------------------------------


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).replace(",", ""))
    except (InvalidOperation, ValueError):
        raise _error(field, _("Enter a number."), ErrorCode.INVALID) from None
    if not number.is_finite():
        raise _error(field, _("Enter a number."), ErrorCode.INVALID)
    return number


def _amount(value: Any) -> Decimal:
    number = _decimal(value, "amount")
    if number is None:
        raise _error("amount", _("Enter the contract's amount."), ErrorCode.REQUIRED)
    if number <= 0:
        raise _error("amount", _("The amount must be above zero."), ErrorCode.INVALID)
    number = number.quantize(Decimal("0.01"))
    if number >= Decimal("1e14"):
        raise _error("amount", _("The amount is too large."), ErrorCode.INVALID)
    return number


def _discount(value: Any) -> Decimal | None:
    number = _decimal(value, "discount")
    if number is None:
        return None
    if number < 0 or number > 100:
        raise _error(
            "discount", _("The discount is a percentage from 0 to 100."), ErrorCode.INVALID
        )
    return number.quantize(Decimal("0.01"))


def _currency(value: Any) -> str:
    code = (value or "").strip().upper() if isinstance(value, str) else ""
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise _error(
            "currency", _("Give a three-letter currency code, such as CNY."), ErrorCode.INVALID
        )
    return code


def _text(value: Any, field: str, limit: int) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise _error(
            field,
            _("Ensure this value has at most %(limit)s characters.") % {"limit": limit},
            ErrorCode.INVALID,
        )
    return text


def _title(value: Any) -> str:
    title = _text(value, "title", TITLE_MAX)
    if not title:
        raise _error("title", _("Give the contract a title."), ErrorCode.REQUIRED)
    return title


def _day(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _error(field, _("Enter a date such as 2026-03-31."), ErrorCode.INVALID) from None


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise _error("ends_on", _("The contract cannot end before it starts."), ErrorCode.INVALID)


def _check_customer(customer: Customer | None) -> Customer:
    if customer is None:
        raise _error("customer", _("Choose a customer."), ErrorCode.REQUIRED)
    if customer.deleted_at is not None:
        raise _error("customer", _("This customer is in the recycle bin."), ErrorCode.INVALID)
    return customer


def _check_owner(owner: User | None) -> User:
    if owner is None:
        raise _error("owner", _("Choose an owner."), ErrorCode.REQUIRED)
    if not owner.is_active:
        raise _error("owner", _("Choose an active user."), ErrorCode.INVALID)
    return owner


def _check_opportunity(opportunity: Opportunity | None, customer: Customer) -> None:
    if opportunity is None:
        return
    if opportunity.deleted_at is not None:
        raise _error("opportunity", _("This opportunity is in the recycle bin."), ErrorCode.INVALID)
    if opportunity.customer_id != customer.pk:
        raise _error(
            "opportunity",
            _("“%(opportunity)s” is an opportunity of another customer.")
            % {"opportunity": opportunity.title},
            ContractError.OTHER_CUSTOMER,
        )


def live_renewal(contract: Contract, *, but: Contract | None = None) -> Contract | None:
    """The contract renewing ``contract`` (a draft, pending, effective or completed one), if
    any; a terminated or deleted renewal does not count."""
    renewals = Contract.objects.filter(renews=contract, status__in=LIVE_STATUSES)
    if but is not None and but.pk is not None:
        renewals = renewals.exclude(pk=but.pk)
    return renewals.order_by("pk").first()


def _check_renews(renews: Contract | None, customer: Customer, *, but: Contract | None) -> None:
    if renews is None:
        return
    if but is not None and renews.pk == but.pk:
        raise _error("renews", _("A contract cannot renew itself."), ErrorCode.INVALID)
    if renews.deleted_at is not None:
        raise _error("renews", _("This contract is in the recycle bin."), ErrorCode.INVALID)
    if renews.status not in (ContractStatus.EFFECTIVE, ContractStatus.COMPLETED):
        raise _error(
            "renews",
            _("Only an effective or completed contract can be renewed."),
            ContractError.STATUS,
        )
    if renews.customer_id != customer.pk:
        raise _error(
            "renews",
            _("“%(number)s” is a contract of another customer.") % {"number": renews.number},
            ContractError.OTHER_CUSTOMER,
        )
    existing = live_renewal(renews, but=but)
    if existing is not None:
        raise _error(
            "renews",
            _("%(renewed)s is renewed already by %(number)s “%(title)s”.")
            % {"renewed": renews.number, "number": existing.number, "title": existing.title},
            ContractError.RENEWED,
        )


def _number_taken(number: str, *, but: Contract | None = None) -> bool:
    taken = Contract.all_objects.filter(number=number)
    if but is not None:
        taken = taken.exclude(pk=but.pk)
    return taken.exists()


def _number(value: Any, *, but: Contract | None = None) -> str:
    number = _text(value, "number", NUMBER_MAX)
    if not number:
        raise _error("number", _("Enter the contract number."), ErrorCode.REQUIRED)
    if _number_taken(number, but=but):
        raise _error(
            "number",
            _("The contract number %(number)s is taken already (perhaps by a deleted contract).")
            % {"number": number},
            ContractError.NUMBER_TAKEN,
        )
    return number


def next_number(on: date | None = None) -> str:
    """The next free number of the "contract" sequence (numbers typed by hand are skipped)."""
    for _attempt in range(100):
        number = sequences.next_value(
            CONTRACT_SEQUENCE, default_pattern=DEFAULT_NUMBER_PATTERN, on=on
        )
        if not _number_taken(number):
            return number
    raise _error(
        "number",
        _("The numbering pattern gives only numbers that are taken: change it in the settings."),
        ContractError.NUMBER_TAKEN,
    )


def _clean_custom(value: Any, current: dict[str, Any] | None, *, partial: bool) -> dict[str, Any]:
    cleaned = custom_fields.clean_values(
        Contract.custom_fields_target, value or {}, partial=partial, current=current
    )
    return custom_fields.apply_values(current, cleaned)


def planned_total(contract: Contract) -> Decimal:
    """The sum of the contract's instalments."""
    total = Instalment.objects.filter(contract=contract).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def _check_version(contract: Contract, version: int | None) -> None:
    if version is not None and version != contract.version:
        raise Conflict()


def _refuse_locked(contract: Contract) -> None:
    if contract.status == ContractStatus.PENDING:
        raise _error(
            "status",
            _("This contract is pending approval and cannot be changed."),
            ContractError.LOCKED,
        )


def _require_status(contract: Contract, allowed: Iterable[str], message: str) -> None:
    """Refuse (LOCKED while pending, else STATUS with ``message``) unless the contract is in
    one of the ``allowed`` statuses."""
    allowed = tuple(allowed)
    if ContractStatus.PENDING not in allowed:
        _refuse_locked(contract)
    if contract.status not in allowed:
        raise _error("status", message, ContractError.STATUS)


# --- Creating and editing -----------------------------------------------------------------------


def draft_from_opportunity(opp: Opportunity) -> dict[str, Any]:
    """What a contract drafted from a won opportunity starts with."""
    return {
        "customer": opp.customer,
        "opportunity": opp,
        "title": opp.title,
        "amount": opp.amount,
        "currency": opp.currency,
        "owner": opp.owner,
    }


@transaction.atomic
def create_contract(
    *,
    customer: Customer,
    title: str,
    amount: Any,
    by: User | None,
    owner: User | None = None,
    currency: str = "CNY",
    opportunity: Opportunity | None = None,
    discount: Any = None,
    signed_on: date | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    number: str = "",
    renews: Contract | None = None,
    description: str = "",
    custom: dict[str, Any] | None = None,
    instalments: Iterable[dict[str, Any]] = (),
) -> Contract:
    """Draft a contract with a customer. Without a number it takes the next one of the
    "contract" sequence (``HT{yyyy}{mm}-{seq:04}`` unless the administrator changed it); a
    number given must be free. ``instalments`` (due_on, amount, note) become its payment
    plan. The customer being within the creator's reach is the caller's check."""
    customer = _check_customer(customer)
    owner = _check_owner(owner or by)
    _check_opportunity(opportunity, customer)
    starts_on = _day(starts_on, "starts_on")
    ends_on = _day(ends_on, "ends_on")
    _check_dates(starts_on, ends_on)
    _check_renews(renews, customer, but=None)
    values = {
        "title": _title(title),
        "amount": _amount(amount),
        "currency": _currency(currency),
        "discount": _discount(discount),
        "signed_on": _day(signed_on, "signed_on"),
        "description": _text(description, "description", DESCRIPTION_MAX),
        "custom": _clean_custom(custom, {}, partial=False),
    }
    number = _number(number) if (number or "").strip() else next_number()
    contract = core_services.create_record(
        Contract,
        by=by,
        owner=owner,
        customer=customer,
        opportunity=opportunity,
        number=number,
        starts_on=starts_on,
        ends_on=ends_on,
        renews=renews,
        status=ContractStatus.DRAFT,
        **values,
    )
    plan = list(instalments)
    if plan:
        from .payments import set_payment_plan

        set_payment_plan(contract, instalments=plan, by=by)
        contract.refresh_from_db()
    return contract


def editable_fields(contract: Contract) -> frozenset[str]:
    """The facts ``update_contract`` accepts for this contract now (forms disable the rest)."""
    if contract.status == ContractStatus.DRAFT:
        return DRAFT_FIELDS
    if contract.status == ContractStatus.PENDING:
        return frozenset()
    return SETTLED_FIELDS


@transaction.atomic
def update_contract(
    contract: Contract, *, by: User | None, version: int | None = None, **facts: Any
) -> Contract:
    """Change a contract's facts: any of a draft's; of an effective, completed or terminated
    one only the description and custom fields; none while it is pending approval (LOCKED).
    Raises Conflict when ``version`` is not the stored one."""
    _refuse_locked(contract)
    allowed = editable_fields(contract)
    for name in facts:
        if name not in DRAFT_FIELDS:
            raise _error(name, _("This field cannot be changed."), ErrorCode.INVALID)
        if name not in allowed:
            raise _error(
                name,
                _(
                    "The terms of an approved contract cannot be changed: only its "
                    "description and custom fields."
                ),
                ContractError.STATUS,
            )
    _check_version(contract, version)
    if "customer" in facts:
        facts["customer"] = _check_customer(facts["customer"])
    customer = facts.get("customer", contract.customer)
    if "owner" in facts:
        facts["owner"] = _check_owner(facts["owner"])
    if "opportunity" in facts or "customer" in facts:
        opportunity = facts.get("opportunity", contract.opportunity)
        try:
            _check_opportunity(opportunity, customer)
        except ValidationError:
            if "opportunity" in facts:
                raise
            # The former customer's opportunity does not follow the contract.
            facts["opportunity"] = None
    if "renews" in facts or "customer" in facts:
        _check_renews(facts.get("renews", contract.renews), customer, but=contract)
    if "title" in facts:
        facts["title"] = _title(facts["title"])
    if "amount" in facts:
        facts["amount"] = _amount(facts["amount"])
        total = planned_total(contract)
        if facts["amount"] < total:
            raise _error(
                "amount",
                _("The payment plan totals %(total)s: lower the instalments first.")
                % {"total": total},
                ContractError.BELOW_PLAN,
            )
    if "currency" in facts:
        facts["currency"] = _currency(facts["currency"])
    if "discount" in facts:
        facts["discount"] = _discount(facts["discount"])
    for name in ("signed_on", "starts_on", "ends_on"):
        if name in facts:
            facts[name] = _day(facts[name], name)
    _check_dates(facts.get("starts_on", contract.starts_on), facts.get("ends_on", contract.ends_on))
    if "number" in facts:
        facts["number"] = _number(facts["number"], but=contract)
    if "description" in facts:
        facts["description"] = _text(facts["description"], "description", DESCRIPTION_MAX)
    if "custom" in facts:
        facts["custom"] = _clean_custom(facts["custom"], contract.custom, partial=True)
    return core_services.update_record(contract, by=by, expected_version=version, **facts)


# --- Approval and status ------------------------------------------------------------------------


@transaction.atomic
def submit_contract(
    contract: Contract, *, by: User, comment: str = "", version: int | None = None
) -> Contract:
    """Submit a draft for approval: the first approval flow whose conditions it meets takes
    it (it is pending, read-only, until decided); when no flow applies it is effective at
    once."""
    from tuoke.org import approvals

    _check_version(contract, version)
    if contract.status == ContractStatus.PENDING:
        raise _error(
            "status", _("This contract is pending approval already."), ContractError.LOCKED
        )
    _require_status(contract, (ContractStatus.DRAFT,), _("Only a draft can be submitted."))
    request = approvals.submit(contract, by=by, comment=comment)
    if request is None or request.status == ApprovalStatus.APPROVED:
        # No flow applies, or every step of it was skipped (nobody above the submitter).
        return make_effective(contract, by=by)
    return core_services.update_record(
        contract, by=by, expected_version=version, status=ContractStatus.PENDING
    )


@transaction.atomic
def withdraw_contract(contract: Contract, *, by: User, comment: str = "") -> Contract:
    """The submitter takes a pending contract back: its request is withdrawn and it is a
    draft again."""
    from tuoke.org import approvals

    if contract.status != ContractStatus.PENDING:
        raise _error(
            "status", _("Only a contract pending approval can be withdrawn."), ContractError.STATUS
        )
    request = approvals.pending_request(contract)
    if request is None:
        back_to_draft(contract, by=by)
    else:
        approvals.withdraw(request, by=by, comment=comment)
    contract.refresh_from_db()
    return contract


@transaction.atomic
def back_to_draft(
    contract: Contract, *, by: User | None, request: ApprovalRequest | None = None
) -> Contract:
    """A pending contract becomes a draft again (its request was rejected, returned or
    withdrawn); audited. Nothing happens to a contract that is not pending."""
    if contract.status != ContractStatus.PENDING:
        return contract
    return core_services.update_record(contract, by=by, status=ContractStatus.DRAFT)


@transaction.atomic
def make_effective(contract: Contract, *, by: User | None) -> Contract:
    """A draft (no flow applied) or an approved pending contract becomes effective: its
    customer is signed (lifecycle), sales credit is given when the credit rule says "on
    approval", and ``contract_effective`` is sent. Its signed date is today when none was
    entered."""
    from tuoke.customers.services import Cause, advance_lifecycle

    if contract.status not in (ContractStatus.DRAFT, ContractStatus.PENDING):
        raise _error(
            "status",
            _("Only a draft or a contract pending approval can become effective."),
            ContractError.STATUS,
        )
    changes: dict[str, Any] = {"status": ContractStatus.EFFECTIVE, "effective_at": timezone.now()}
    if contract.signed_on is None:
        changes["signed_on"] = timezone.localdate()
    contract = core_services.update_record(contract, by=by, **changes)
    # Read again: the customer in memory may be older than its stored status.
    customer = Customer.all_objects.select_for_update().get(pk=contract.customer_id)
    if advance_lifecycle(
        customer, to=LifecycleStatus.SIGNED, cause=Cause.CONTRACT_EFFECTIVE, by=by
    ):
        contract.customer = customer
    if ContractSettings.current().credit_rule == CreditRule.ON_APPROVAL:
        from .payments import credit_contract_effective

        credit_contract_effective(contract, by=by)
    contract_effective.send(sender=Contract, contract=contract, by=by)
    return contract


@transaction.atomic
def complete_contract(
    contract: Contract, *, by: User | None, version: int | None = None
) -> Contract:
    """An effective contract is fulfilled."""
    _check_version(contract, version)
    _require_status(
        contract, (ContractStatus.EFFECTIVE,), _("Only an effective contract can be completed.")
    )
    return core_services.update_record(
        contract,
        by=by,
        expected_version=version,
        status=ContractStatus.COMPLETED,
        closed_at=timezone.now(),
    )


@transaction.atomic
def terminate_contract(
    contract: Contract, *, by: User | None, reason: str, version: int | None = None
) -> Contract:
    """An effective contract ends early, for a reason that is kept: a manager's decision
    (``approve`` on the contract within his scope), as reopening a deal is."""
    if by is not None and not may_act_on(by, contract, Action.APPROVE):
        raise PermissionDenied(_("Only a manager may terminate a contract."))
    _check_version(contract, version)
    _require_status(
        contract, (ContractStatus.EFFECTIVE,), _("Only an effective contract can be terminated.")
    )
    reason = _text(reason, "reason", REASON_MAX)
    if not reason:
        raise _error("reason", _("Say why the contract is terminated."), ErrorCode.REQUIRED)
    return core_services.update_record(
        contract,
        by=by,
        expected_version=version,
        status=ContractStatus.TERMINATED,
        closed_at=timezone.now(),
        termination_reason=reason,
    )


# --- Renewals -----------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def following_term(starts_on: date | None, ends_on: date | None) -> tuple[date | None, date | None]:
    """The term after [starts_on, ends_on]: from the day after its end, as long (whole months
    stay whole months: 2026-01-01…2026-12-31 is followed by 2027-01-01…2027-12-31)."""
    if ends_on is None:
        return None, None
    starts = ends_on + timedelta(days=1)
    if starts_on is None:
        return starts, None
    months = (starts.year - starts_on.year) * 12 + starts.month - starts_on.month
    if months > 0 and _add_months(starts_on, months) == starts:
        return starts, _add_months(starts, months) - timedelta(days=1)
    return starts, starts + (ends_on - starts_on)


def renewal_title(title: str) -> str:
    base = title[: -len(RENEWAL_SUFFIX)] if title.endswith(RENEWAL_SUFFIX) else title
    return base[: TITLE_MAX - len(RENEWAL_SUFFIX)] + RENEWAL_SUFFIX


@transaction.atomic
def renew_contract(contract: Contract, *, by: User | None) -> Contract:
    """Draft the renewal of an effective or completed contract: same customer, owner,
    amount, currency, discount and custom values, the term following on, titled
    "…（续约）". A contract has one renewal at a time (a terminated one does not count)."""
    _refuse_locked(contract)
    starts_on, ends_on = following_term(contract.starts_on, contract.ends_on)
    owner = contract.owner if contract.owner.is_active else by
    return create_contract(
        customer=contract.customer,
        title=renewal_title(contract.title),
        amount=contract.amount,
        currency=contract.currency,
        discount=contract.discount,
        owner=owner,
        by=by,
        starts_on=starts_on,
        ends_on=ends_on,
        renews=contract,
        # Values of fields deleted since stay with the old contract only.
        custom={
            field.key: contract.custom[field.key]
            for field in custom_fields.fields_for(Contract.custom_fields_target)
            if field.key in (contract.custom or {})
        },
    )


# --- Recycle bin and handover -------------------------------------------------------------------


@transaction.atomic
def delete_contract(contract: Contract, *, by: User | None) -> None:
    """Move a draft or a terminated contract to the recycle bin (with its plan and
    attachments); pending, effective and completed ones stay, as does any contract money
    was received on."""
    _require_status(
        contract,
        (ContractStatus.DRAFT, ContractStatus.TERMINATED),
        _("Only drafts and terminated contracts can be deleted."),
    )
    if contract.payments.filter(status=PaymentStatus.CONFIRMED).exists():
        raise _error(
            "status",
            _("Money was received on this contract: it stays on record."),
            ErrorCode.IN_USE,
        )
    core_services.soft_delete(contract, by=by)


@transaction.atomic
def restore_contract(contract: Contract, *, by: User | None) -> None:
    """Bring a contract back from the recycle bin (its customer must be back first)."""
    core_services.restore(contract, by=by)


@transaction.atomic
def transfer_contracts(
    contracts: Iterable[Contract], *, to: User, reason: str, by: User | None
) -> int:
    """Give contracts to another owner (a handover, or assigning from the list): a manager's
    action (``approve`` on contracts); each move audited with its reason. Returns how many
    moved."""
    if by is not None:
        require(by, Contract.record_type, Action.APPROVE)
    reason = (reason or "").strip()
    if not reason:
        raise _error("reason", _("Say why the contracts are transferred."), ErrorCode.REQUIRED)
    if to is None or not to.is_active:
        raise _error("to", _("Choose an active user."), ErrorCode.INVALID)
    label = _label(Contract, "owner")
    note = _("Transferred: %(reason)s") % {"reason": reason}
    moved = 0
    for contract in contracts:
        if contract.owner_id == to.pk:
            continue
        before = str(contract.owner)
        Contract.all_objects.filter(pk=contract.pk).update(
            owner=to, version=F("version") + 1, updated_at=timezone.now(), updated_by=by
        )
        audit.record(
            contract,
            kind=AuditEntry.Kind.UPDATE,
            actor=by,
            changes=[{"field": "owner", "label": label, "old": before, "new": str(to)}],
            note=note,
        )
        moved += 1
    return moved


# --- Attachments --------------------------------------------------------------------------------

PDF = (b"%PDF",)
PNG = (b"\x89PNG\r\n\x1a\n",)
JPEG = (b"\xff\xd8\xff",)
ZIP = (b"PK\x03\x04",)
OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # the old Office formats (.doc, .xls)
# extension → (leading bytes it must start with, content type stored)
ATTACHMENT_TYPES: dict[str, tuple[tuple[bytes, ...], str]] = {
    "pdf": (PDF, "application/pdf"),
    "png": (PNG, "image/png"),
    "jpg": (JPEG, "image/jpeg"),
    "jpeg": (JPEG, "image/jpeg"),
    "docx": (
        ZIP,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (ZIP, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "zip": (ZIP, "application/zip"),
    "doc": (OLE, "application/msword"),
    "xls": (OLE, "application/vnd.ms-excel"),
}
DEFAULT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def attachment_max_bytes() -> int:
    return int(getattr(settings, "CONTRACT_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES))


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    if size >= 1024:
        return f"{size / 1024:g} KB"
    return f"{size} B"


def _display_name(name: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/"))
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .")
    if len(cleaned) > 200:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = stem[: 199 - len(ext)] + dot + ext if dot else cleaned[:200]
    return cleaned or "attachment"


def _refuse_type() -> ValidationError:
    return _error(
        "file",
        _("Upload a PDF, PNG, JPG, Word (DOC, DOCX), Excel (XLS, XLSX) or ZIP file."),
        ContractError.FILE_TYPE,
    )


def check_upload(upload: UploadedFile) -> tuple[str, str]:
    """(display name, content type) of an acceptable upload, or a ValidationError on "file":
    at most ``CONTRACT_ATTACHMENT_MAX_BYTES`` and of an allowed type, by its extension and
    by its leading bytes (a renamed program is refused)."""
    if upload is None:
        raise _error("file", _("Choose a file."), ErrorCode.REQUIRED)
    limit = attachment_max_bytes()
    size = upload.size or 0
    if size > limit:
        raise _error(
            "file",
            _("The file is larger than %(limit)s.") % {"limit": _size_text(limit)},
            ContractError.FILE_SIZE,
        )
    if size == 0:
        raise _error("file", _("The file is empty."), ErrorCode.INVALID)
    name = _display_name(upload.name or "")
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in ATTACHMENT_TYPES:
        raise _refuse_type()
    signatures, content_type = ATTACHMENT_TYPES[extension]
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(signature) for signature in signatures):
        raise _refuse_type()
    return name, content_type


def _attachment_change(contract: Contract, *, by: User | None, old: str, new: str) -> None:
    audit.record(
        contract,
        kind=AuditEntry.Kind.UPDATE,
        actor=by,
        changes=[
            {
                "field": "attachments",
                "label": str(ContractAttachment._meta.verbose_name_plural),
                "old": old,
                "new": new,
            }
        ],
    )


@transaction.atomic
def add_attachment(
    contract: Contract, *, upload: UploadedFile, by: User | None
) -> ContractAttachment:
    """Keep a file with a contract (not while it is pending approval): stored under a name of
    its own, its original name shown; audited on the contract."""
    _refuse_locked(contract)
    name, content_type = check_upload(upload)
    extension = name.rpartition(".")[2].lower()
    attachment = ContractAttachment(
        contract=contract,
        name=name,
        size=upload.size or 0,
        content_type=content_type,
        created_by=by,
        updated_by=by,
    )
    attachment.file.save(f"{uuid.uuid4().hex}.{extension}", upload, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    _attachment_change(contract, by=by, old="", new=name)
    return attachment


@transaction.atomic
def remove_attachment(attachment: ContractAttachment, *, by: User | None) -> None:
    """Take a file off its contract (not while it is pending approval); the file is kept
    (soft delete) and the removal audited on the contract."""
    contract = attachment.contract
    _refuse_locked(contract)
    core_services.soft_delete(attachment, by=by)
    _attachment_change(contract, by=by, old=attachment.name, new="")


# --- Access -------------------------------------------------------------------------------------


def get_contract_for(user: User, pk: Any, action: str = Action.VIEW) -> Contract:
    """The contract ``pk`` if ``user`` may ``action`` it, else Http404."""
    queryset = Contract.objects.select_related("customer", "owner", "opportunity", "renews")
    return cast(Contract, get_for(user, queryset, pk, action))


def may_edit(user: User, contract: Contract) -> bool:
    """Whether ``user`` may edit the contract now (its edit button): within his edit scope
    and not pending approval."""
    if contract.deleted_at is not None or contract.status == ContractStatus.PENDING:
        return False
    return may_act_on(user, contract, Action.EDIT)


# --- Settings -----------------------------------------------------------------------------------


def number_sequence():
    """The contract numbering (pattern and restart), stored or the default."""
    return sequences.sequence_of(CONTRACT_SEQUENCE, default_pattern=DEFAULT_NUMBER_PATTERN)


@transaction.atomic
def update_settings(
    *,
    by: User | None,
    credit_rule: str | None = None,
    renewal_horizon_days: Any = None,
    number_pattern: str | None = None,
    number_reset: str | None = None,
) -> ContractSettings:
    """The administrator's contract settings: the sales credit rule, how many days before
    its end a contract shows as due for renewal, and the numbering (pattern and restart).
    Audited (the numbering on its sequence)."""
    if by is not None:
        require(by, Contract.record_type, Action.ADMINISTER)
    current = ContractSettings.current()
    row = ContractSettings.objects.select_for_update().get(pk=current.pk)
    changes = []
    if credit_rule is not None:
        if credit_rule not in CreditRule.values:
            raise _error("credit_rule", _("Choose a sales credit rule."), ErrorCode.INVALID)
        if credit_rule != row.credit_rule:
            changes.append(
                (
                    "credit_rule",
                    str(CreditRule(row.credit_rule).label),
                    str(CreditRule(credit_rule).label),
                )
            )
            row.credit_rule = credit_rule
    if renewal_horizon_days is not None:
        try:
            days = int(renewal_horizon_days)
        except (TypeError, ValueError):
            days = 0
        if not 1 <= days <= 365:
            raise _error(
                "renewal_horizon_days",
                _("Enter a number of days from 1 to 365."),
                ErrorCode.INVALID,
            )
        if days != row.renewal_horizon_days:
            changes.append(("renewal_horizon_days", str(row.renewal_horizon_days), str(days)))
            row.renewal_horizon_days = days
    if number_pattern is not None or number_reset is not None:
        sequence = number_sequence()
        sequences.set_pattern(
            CONTRACT_SEQUENCE,
            pattern=number_pattern if number_pattern is not None else sequence.pattern,
            reset=number_reset if number_reset is not None else sequence.reset,
            by=by,
        )
    if changes:
        row.updated_by = by
        row.save(
            update_fields=[name for name, _old, _new in changes] + ["updated_by", "updated_at"]
        )
        audit.record(
            row,
            kind=AuditEntry.Kind.UPDATE,
            actor=by,
            changes=[
                {
                    "field": name,
                    "label": _label(ContractSettings, name),
                    "old": old,
                    "new": new,
                }
                for name, old, new in changes
            ],
        )
    return row
