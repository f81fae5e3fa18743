"""The exchange rates API: the rates reports convert with, one per currency and day, read by
everyone who may view them and kept by finance and administrators (edit on ``exchange_rate``).
Writes go through ``tuoke.core.money``."""

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from . import money
from .api import ERRORS, WRITE_ERRORS, PagePagination, RecordId, Text, VersionedPatch, sent
from .models import Action, ExchangeRate
from .scope import get_for, get_for_action, require

router = Router(tags=["exchange rates"])


class ExchangeRateOut(Schema):
    id: int
    currency: str = Field(examples=["USD"])
    valid_on: date = Field(
        description="The first day of the rate; it holds until the next rate of the currency",
        examples=["2026-03-02"],
    )
    rate: Decimal = Field(
        description="What one unit of `currency` is worth in `reporting_currency`",
        examples=["7.18350000"],
    )
    reporting_currency: str = Field(examples=["CNY"])
    note: str = Field(examples=["中国人民银行中间价"])
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_reporting_currency(rate: ExchangeRate) -> str:
        return money.reporting_currency()


class ExchangeRateIn(Schema):
    currency: Text = Field(
        max_length=3,
        description="ISO 4217 code; not the reporting currency (its rate is always 1)",
        examples=["USD"],
    )
    valid_on: date = Field(examples=["2026-03-02"])
    rate: Decimal = Field(
        description="What one unit of `currency` is worth in the reporting currency (> 0, "
        "at most 8 decimals)",
        examples=["7.1835"],
    )
    note: Text = Field("", max_length=200, examples=["中国人民银行中间价"])
    replace: bool = Field(
        False,
        description="When the currency already has a rate from that day: change it (true) "
        "instead of refusing (false: 400, code `duplicate`)",
    )


class ExchangeRateUpdate(VersionedPatch):
    currency: Text | None = Field(None, max_length=3, examples=["USD"])
    valid_on: date | None = None
    rate: Decimal | None = Field(None, examples=["7.1902"])
    note: Text | None = Field(None, max_length=200)


class ExchangeRateFilters(Schema):
    currency: str | None = Field(None, max_length=3, description="Only this currency")
    on: date | None = Field(
        None,
        description="Only the rate each currency has on this day (its latest from that day "
        "or before)",
    )


@router.get("/exchange-rates", response={200: list[ExchangeRateOut], **ERRORS})
@paginate(PagePagination)
def list_exchange_rates(request: HttpRequest, filters: Query[ExchangeRateFilters]):
    """Every rate, latest first; `currency` narrows to one currency, `on` to the rate valid
    that day (one per currency, none for a currency without a rate by then)."""
    require(request.user, ExchangeRate.record_type, Action.VIEW)
    rates = ExchangeRate.objects.visible_to(request.user)
    if filters.currency:
        rates = rates.filter(currency=filters.currency.strip().upper())
    if filters.on is not None:
        rates = money.valid_on(rates, filters.on)
    return rates.order_by("-valid_on", "currency", "-pk")


@router.post("/exchange-rates", response={201: ExchangeRateOut, **WRITE_ERRORS})
def create_exchange_rate(request: HttpRequest, payload: ExchangeRateIn):
    """A rate of a currency from a day (finance and administrators)."""
    require(request.user, ExchangeRate.record_type, Action.EDIT)
    facts = payload.model_dump(exclude={"replace"})
    if payload.replace:
        rate = money.set_rate(by=request.user, **facts)
    else:
        rate = money.create_rate(by=request.user, **facts)
    return Status(201, rate)


@router.get("/exchange-rates/{rate_id}", response={200: ExchangeRateOut, **ERRORS})
def read_exchange_rate(request: HttpRequest, rate_id: RecordId):
    return get_for(request.user, ExchangeRate.objects.all(), rate_id)


@router.patch("/exchange-rates/{rate_id}", response={200: ExchangeRateOut, **WRITE_ERRORS})
def update_exchange_rate(request: HttpRequest, rate_id: RecordId, payload: ExchangeRateUpdate):
    """Correct a rate (its currency, day, value or note); `version` is the one you read."""
    rate = get_for_action(request.user, ExchangeRate.objects.all(), rate_id, Action.EDIT)
    return money.update_rate(rate, by=request.user, version=payload.version, **sent(payload))


@router.delete("/exchange-rates/{rate_id}", response={204: None, **WRITE_ERRORS})
def delete_exchange_rate(request: HttpRequest, rate_id: RecordId):
    """Move a rate to the recycle bin; amounts of its days then convert with the rate before."""
    rate = get_for_action(request.user, ExchangeRate.objects.all(), rate_id, Action.EDIT)
    money.delete_rate(rate, by=request.user)
    return Status(204, None)
