"""The receivables and renewals API: receivables ageing per bucket, rep and unit with the
contracts behind it, contracts ending soon, renewal figures per period, and sales credit per
owner. Everything within the caller's scope on contracts (``tuoke.contracts.queries``; credit
from ``tuoke.contracts.payments``, the one service that reads it)."""

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tuoke.core.api import ERRORS, PagePagination, PersonRef, RecordId, Ref
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.lists import capped_count
from tuoke.core.models import Action, Scope
from tuoke.core.scope import require, scope_of
from tuoke.org.models import User

from . import payments, queries
from .models import Contract

router = Router(tags=["receivables and renewals"])

Bucket = Literal["not_due", "1_30", "31_90", "over_90"]
BUCKETS_DESCRIPTION = (
    "Outstanding money per ageing bucket, in the reporting currency: `not_due`, `1_30`, "
    "`31_90`, `over_90` (days overdue)"
)


# --- Schemas ----------------------------------------------------------------------------------


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "display_name": str(user)}


class ReceivableOwnerOut(Schema):
    owner: PersonRef
    buckets: dict[str, Decimal] = Field(description=BUCKETS_DESCRIPTION)
    total: Decimal
    contracts: int = Field(description="Contracts awaiting payment")


class ReceivableUnitOut(Schema):
    unit: Ref
    buckets: dict[str, Decimal] = Field(description=BUCKETS_DESCRIPTION)
    total: Decimal = Field(description="Of the unit's people and of the units below it")
    contracts: int


class ReceivableRowOut(Schema):
    id: int = Field(description="The contract's id")
    number: str = Field(examples=["HT202606-0012"])
    title: str
    customer: Ref
    owner: PersonRef
    amount: Decimal
    received_amount: Decimal
    currency: str = Field(examples=["CNY"])
    buckets: dict[str, Decimal] = Field(
        description="Outstanding per ageing bucket in the contract's currency"
    )
    outstanding: Decimal = Field(description="amount − received, in the contract's currency")
    reporting_outstanding: Decimal | None = Field(
        description="The outstanding money in the reporting currency (null without a rate)"
    )
    oldest_due_on: date | None = Field(
        description="Due date of the oldest instalment past due and not fully paid"
    )
    days_overdue: int


class ReceivableRowsOut(Schema):
    items: list[ReceivableRowOut]
    count: int = Field(description="Contracts listed on all pages, counted up to 2,000")
    count_capped: bool
    page: int
    page_size: int


class ReceivablesOut(Schema):
    as_of: date
    currency: str = Field(description="The reporting currency of the figures", examples=["CNY"])
    buckets: dict[str, Decimal] = Field(description=BUCKETS_DESCRIPTION)
    total: Decimal
    overdue: Decimal = Field(description="The buckets past due together")
    contracts: int = Field(description="Contracts awaiting payment counted in the figures")
    by_owner: list[ReceivableOwnerOut]
    by_unit: list[ReceivableUnitOut]
    missing_rates: list[str] = Field(
        description="Currencies without an exchange rate on `as_of`: left out of the figures"
    )
    rows: ReceivableRowsOut = Field(
        description="The contracts behind the figures (of `bucket` when given), one page"
    )


class ReceivablesFilters(Schema):
    as_of: date | None = Field(None, description="The day of the ageing (default today)")
    owner: RecordId | None = Field(None, description="Only this owner's contracts")
    unit: RecordId | None = Field(
        None, description="Only the contracts of the people of this unit and the units below"
    )
    bucket: Bucket | None = Field(None, description="List only the contracts of this bucket")
    order: Literal["outstanding", "oldest"] = Field(
        "outstanding",
        description="`outstanding`: largest first; `oldest`: longest overdue first",
    )
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int | None = Field(None, ge=1)


class RenewalContractOut(Schema):
    id: int
    number: str = Field(examples=["HT202507-0003"])
    title: str
    customer: Ref
    owner: PersonRef
    amount: Decimal
    currency: str
    status: str
    ends_on: date | None
    days_left: int | None = Field(description="Days from today to the end date")

    @staticmethod
    def resolve_customer(contract: Contract) -> dict[str, Any]:
        return {"id": contract.customer_id, "name": contract.customer.display_name}

    @staticmethod
    def resolve_owner(contract: Contract) -> dict[str, Any] | None:
        return _person(contract.owner)

    @staticmethod
    def resolve_days_left(contract: Contract) -> int | None:
        if contract.ends_on is None:
            return None
        return (contract.ends_on - timezone.localdate()).days


class RenewalsFilters(Schema):
    days: int | None = Field(
        None,
        ge=1,
        le=3650,
        description="Ending within this many days from today (default: the renewal "
        "reminder of the contract settings)",
    )
    owner: RecordId | None = None
    unit: RecordId | None = None


class RenewalFiguresOut(Schema):
    start: date
    end: date
    currency: str = Field(description="The reporting currency of the amounts")
    due_count: int = Field(
        description="Effective or completed contracts ending in [start, end] (terminated ones "
        "excluded)"
    )
    due_amount: Decimal
    renewed_count: int = Field(
        description="Of them, those with an effective or completed renewal contract"
    )
    renewed_amount: Decimal = Field(description="The amount of the renewed contracts")
    not_renewed_count: int
    rate_by_count: Decimal | None = Field(
        description="renewed ÷ due, a fraction (0.5 = 50 %); null when nothing is due"
    )
    rate_by_amount: Decimal | None = Field(
        description="renewed amount ÷ due amount; null when nothing is due"
    )
    renewal_amount: Decimal = Field(description="The amount of those renewal contracts")
    missing_rates: list[str] = Field(
        description="Currencies without an exchange rate: their amounts are left out"
    )


class RenewalFiguresFilters(Schema):
    start: date = Field(description="First day of the period")
    end: date = Field(description="Last day of the period (included)")
    owner: RecordId | None = None
    unit: RecordId | None = None


class SalesCreditOwnerOut(Schema):
    owner: PersonRef
    total: Decimal = Field(description="Net credit (reversals deducted), reporting currency")


class SalesCreditOut(Schema):
    start: date
    end: date
    currency: str = Field(description="The reporting currency")
    rule: Literal["payment", "approval"] = Field(
        description="When credit is given: `payment` (money confirmed by finance) or "
        "`approval` (the contract becomes effective)"
    )
    total: Decimal
    by_owner: list[SalesCreditOwnerOut] = Field(description="Largest first")


class SalesCreditFilters(Schema):
    start: date = Field(description="First day credited")
    end: date = Field(description="Last day credited (included)")
    owner: RecordId | None = None
    unit: RecordId | None = Field(
        None, description="Credit of the owners while they were in this unit or one below it"
    )


# --- Helpers -----------------------------------------------------------------------------------


def _owner_and_unit(user: User, owner_id: int | None, unit_id: int | None):
    """The owner and unit filters among the people and units the user sees (400 otherwise)."""
    owner = unit = None
    if owner_id is not None:
        owner = queries.people_in_scope(user).filter(pk=owner_id).first()
        if owner is None:
            raise field_error(
                "owner",
                _("Select a valid choice. That choice is not one of the available choices."),
                ErrorCode.INVALID,
            )
    if unit_id is not None:
        unit = queries.units_in_scope(user).filter(pk=unit_id).first()
        if unit is None:
            raise field_error(
                "unit",
                _("Select a valid choice. That choice is not one of the available choices."),
                ErrorCode.INVALID,
            )
    return owner, unit


def _period(start: date, end: date) -> None:
    if start > end:
        raise field_error("end", _("The end comes before the start."), ErrorCode.INVALID)


def _row(row: queries.ReceivableRow) -> dict[str, Any]:
    contract = row.contract
    return {
        "id": contract.pk,
        "number": contract.number,
        "title": contract.title,
        "customer": {"id": contract.customer_id, "name": contract.customer.display_name},
        "owner": _person(contract.owner),
        "amount": contract.amount,
        "received_amount": contract.received_amount,
        "currency": contract.currency,
        "buckets": row.buckets,
        "outstanding": row.outstanding,
        "reporting_outstanding": row.reporting_outstanding,
        "oldest_due_on": row.oldest_due_on,
        "days_overdue": row.days_overdue,
    }


# --- Routes ------------------------------------------------------------------------------------


@router.get("/receivables", response={200: ReceivablesOut, **ERRORS})
def read_receivables(request: HttpRequest, filters: Query[ReceivablesFilters]):
    """Receivables ageing of the contracts you see: contracts effective or completed with
    less received than their amount; each instalment's unpaid money falls in a bucket by its
    due date seen on `as_of`, the unplanned rest is not due; figures in the reporting
    currency at the rates of `as_of`, per owner and per unit (with the units below it), and
    one page of the contracts behind them (`bucket` narrows it to the contracts with money in
    that bucket)."""
    require(request.user, Contract.record_type, Action.VIEW)
    owner, unit = _owner_and_unit(request.user, filters.owner, filters.unit)
    report = queries.receivables(
        request.user, as_of=filters.as_of or timezone.localdate(), owner=owner, unit=unit
    )
    listed = report.ordered(report.in_bucket(filters.bucket), filters.order)
    page_size = min(filters.page_size or settings.API_PAGE_SIZE, settings.API_MAX_PAGE_SIZE)
    offset = (filters.page - 1) * page_size
    cap = settings.LIST_COUNT_CAP
    count = capped_count(listed, cap)
    contracts = list(listed.select_related("customer", "owner")[offset : offset + page_size])
    return {
        "as_of": report.as_of,
        "currency": report.currency,
        "buckets": report.total.buckets,
        "total": report.total.total,
        "overdue": report.total.overdue,
        "contracts": report.total.contracts,
        "by_owner": [
            {
                "owner": _person(a.owner),
                "buckets": a.buckets,
                "total": a.total,
                "contracts": a.contracts,
            }
            for a in report.by_owner
            if a.owner is not None
        ],
        "by_unit": [
            {
                "unit": {"id": a.unit.pk, "name": a.unit.name},
                "buckets": a.buckets,
                "total": a.total,
                "contracts": a.contracts,
            }
            for a in report.by_unit
            if a.unit is not None
        ],
        "missing_rates": sorted(report.missing_rates),
        "rows": {
            "items": [_row(r) for r in report.rows(contracts)],
            "count": min(count, cap),
            "count_capped": count > cap,
            "page": filters.page,
            "page_size": page_size,
        },
    }


@router.get("/renewals", response={200: list[RenewalContractOut], **ERRORS})
@paginate(PagePagination)
def list_renewals_due(request: HttpRequest, filters: Query[RenewalsFilters]):
    """Effective contracts you see ending within `days` from today (both days included)
    without a living renewal that is not terminated; soonest first."""
    require(request.user, Contract.record_type, Action.VIEW)
    owner, unit = _owner_and_unit(request.user, filters.owner, filters.unit)
    return queries.ending_soon(
        request.user, days=filters.days, owner=owner, unit=unit
    ).select_related("customer", "owner")


@router.get("/renewals/figures", response={200: RenewalFiguresOut, **ERRORS})
def read_renewal_figures(request: HttpRequest, filters: Query[RenewalFiguresFilters]):
    """Renewal figures of the contracts you see ending in [start, end]: due, renewed (an
    effective or completed renewal contract), the rates by count and by amount, and the
    renewal amount, in the reporting currency at the rates of `end`."""
    require(request.user, Contract.record_type, Action.VIEW)
    _period(filters.start, filters.end)
    owner, unit = _owner_and_unit(request.user, filters.owner, filters.unit)
    figures = queries.renewal_figures(
        request.user, start=filters.start, end=filters.end, owner=owner, unit=unit
    )
    return {
        "start": figures.start,
        "end": figures.end,
        "currency": figures.currency,
        "due_count": figures.due_count,
        "due_amount": figures.due_amount,
        "renewed_count": figures.renewed_count,
        "renewed_amount": figures.renewed_amount,
        "not_renewed_count": figures.not_renewed_count,
        "rate_by_count": figures.rate_by_count,
        "rate_by_amount": figures.rate_by_amount,
        "renewal_amount": figures.renewal_amount,
        "missing_rates": sorted(figures.missing_rates),
    }


@router.get("/sales-credit", response={200: SalesCreditOut, **ERRORS})
def read_sales_credit(request: HttpRequest, filters: Query[SalesCreditFilters]):
    """Net sales credit of the days [start, end] per owner you see (the contracts' owners
    within your scope), in the reporting currency; the credit rule says when it is given."""
    from tuoke.core.money import reporting_currency

    require(request.user, Contract.record_type, Action.VIEW)
    _period(filters.start, filters.end)
    owner, unit = _owner_and_unit(request.user, filters.owner, filters.unit)
    if owner is not None:
        owners: list[int] | None = [owner.pk]
    elif scope_of(request.user, Contract.record_type, Action.VIEW) >= Scope.ALL:
        owners = None
    else:
        owners = list(queries.people_in_scope(request.user).values_list("pk", flat=True))
    rows = (
        payments.credits(
            start=filters.start,
            end=filters.end,
            owners=owners,
            units=[unit] if unit is not None else None,
        )
        .order_by()
        .values("owner_id")
        .annotate(total=Sum("reporting_amount"))
    )
    totals = {row["owner_id"]: row["total"] or Decimal("0") for row in rows}
    people = User.objects.in_bulk(list(totals))
    by_owner = sorted(
        (
            {"owner": _person(people[pk]), "total": total}
            for pk, total in totals.items()
            if pk in people
        ),
        key=lambda r: (-r["total"], r["owner"]["username"]),
    )
    return {
        "start": filters.start,
        "end": filters.end,
        "currency": reporting_currency(),
        "rule": payments.credit_rule(),
        "total": sum((r["total"] for r in by_owner), Decimal("0")),
        "by_owner": by_owner,
    }
