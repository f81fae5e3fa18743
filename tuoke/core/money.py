"""Money: amounts are Decimal with an ISO currency; reports convert them into the reporting
currency with the exchange rates an administrator (or the API) keeps per day, and show them as
Chinese and English users expect ("¥1,234,567.00", "123.5万", "1.23M").

``convert``/``to_reporting`` read one rate per call (forms, services); ``RateTable`` loads every
rate of the currencies a report needs in one query and converts in Python (set-based reports).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import translation
from django.utils.translation import gettext as _

from . import services as core_services
from .errors import ErrorCode, field_error
from .models import Action, ExchangeRate
from .scope import require

if TYPE_CHECKING:
    from tuoke.org.models import User

CENT = Decimal("0.01")
ONE = Decimal(1)

# Symbols of the currencies Chinese companies deal in most; any other shows its code
# ("CHF 1,234.00"). JPY is "JP¥" so it is never mistaken for the yuan.
CURRENCIES: dict[str, str] = {
    "CNY": "¥",
    "USD": "US$",
    "EUR": "€",
    "HKD": "HK$",
    "JPY": "JP¥",
    "GBP": "£",
    "TWD": "NT$",
    "MOP": "MOP$",
    "KRW": "₩",
    "SGD": "S$",
    "AUD": "A$",
    "CAD": "C$",
    "RUB": "₽",
    "INR": "₹",
    "THB": "฿",
    "VND": "₫",
}
CURRENCY_CODE = re.compile(r"^[A-Z]{3}\Z")


class MoneyError(StrEnum):
    """Error codes of money and exchange rates, beside the common ``ErrorCode``."""

    MISSING_RATE = "missing_rate"
    REPORTING_CURRENCY = "reporting_currency"


class MissingRate(ValidationError):
    """No exchange rate of ``currency`` valid on ``day`` (a ValidationError naming the field
    "currency", code "missing_rate", so pages and the API show it like any other)."""

    def __init__(self, currency: str, day: date):
        self.currency = currency
        self.day = day
        message = _("There is no exchange rate for %(currency)s on %(day)s.") % {
            "currency": currency,
            "day": day.isoformat(),
        }
        super().__init__({"currency": [ValidationError(message, code=MoneyError.MISSING_RATE)]})


def reporting_currency() -> str:
    """The currency reports are in (settings.REPORTING_CURRENCY, default CNY)."""
    return getattr(settings, "REPORTING_CURRENCY", "") or "CNY"


def _decimal(amount: Any) -> Decimal:
    return amount if isinstance(amount, Decimal) else Decimal(str(amount))


def rate_on(currency: str, day: date) -> Decimal | None:
    """The value of one ``currency`` in the reporting currency on ``day``: the latest living
    rate valid from that day or before (1 for the reporting currency itself), None if none."""
    if currency == reporting_currency():
        return ONE
    return (
        ExchangeRate.objects.filter(currency=currency, valid_on__lte=day)
        .order_by("-valid_on", "-pk")
        .values_list("rate", flat=True)
        .first()
    )


def valid_on(rates: QuerySet[ExchangeRate], day: date) -> QuerySet[ExchangeRate]:
    """Of ``rates``, the one of each currency valid on ``day`` (its latest from that day or
    before): the rates list's "today" and the API's ``?on=``."""
    latest = (
        ExchangeRate.objects.filter(currency=OuterRef("currency"), valid_on__lte=day)
        .order_by("-valid_on", "-pk")
        .values("pk")[:1]
    )
    return rates.filter(valid_on__lte=day, pk=Subquery(latest))


def convert(amount: Any, currency: str, *, on: date, to: str | None = None) -> Decimal:
    """``amount`` of ``currency`` in ``to`` (the reporting currency by default) at the rates
    of ``on``, rounded half up to cents. Raises MissingRate when a rate is missing."""
    target = to or reporting_currency()
    amount = _decimal(amount)
    if currency == target:
        return amount
    source_rate = rate_on(currency, on)
    if source_rate is None:
        raise MissingRate(currency, on)
    target_rate = rate_on(target, on)
    if target_rate is None:
        raise MissingRate(target, on)
    return (amount * source_rate / target_rate).quantize(CENT, rounding=ROUND_HALF_UP)


def to_reporting(amount: Any, currency: str, *, on: date) -> Decimal:
    """``amount`` in the reporting currency at the rate of ``on`` (MissingRate if none)."""
    return convert(amount, currency, on=on)


class RateTable:
    """Every rate of ``currencies`` valid up to ``until``, read in one query, for reports
    that convert many amounts: ``to_reporting`` gives what ``tuoke.core.money.to_reporting``
    would (same rate, same rounding) without a query; a currency without a rate on the day
    asked gives None and is added to ``missing`` (so a report can say what it left out)."""

    def __init__(self, currencies: Iterable[str], *, until: date):
        self.reporting = reporting_currency()
        self.until = until
        self.missing: set[str] = set()
        wanted = {c for c in currencies if c and c != self.reporting}
        self._days: dict[str, list[date]] = {c: [] for c in wanted}
        self._rates: dict[str, list[Decimal]] = {c: [] for c in wanted}
        if wanted:
            rows = (
                ExchangeRate.objects.filter(currency__in=wanted, valid_on__lte=until)
                .order_by("currency", "valid_on", "pk")
                .values_list("currency", "valid_on", "rate")
            )
            for currency, valid_on, rate in rows:
                days = self._days[currency]
                if days and days[-1] == valid_on:
                    # One living rate per day (constraint); keep the later row if ever two.
                    self._rates[currency][-1] = rate
                    continue
                days.append(valid_on)
                self._rates[currency].append(rate)

    @property
    def currencies(self) -> list[str]:
        """The currencies loaded (the reporting currency excepted), sorted."""
        return sorted(self._days)

    def rate(self, currency: str, on: date) -> Decimal | None:
        """The rate of ``currency`` on ``on`` (1 for the reporting currency), or None."""
        if currency == self.reporting:
            return ONE
        if on > self.until:
            raise ValueError(f"RateTable loaded rates up to {self.until}, asked for {on}")
        days = self._days.get(currency)
        if days is None:
            raise ValueError(f"RateTable was not loaded with {currency}")
        index = bisect_right(days, on)
        if index == 0:
            self.missing.add(currency)
            return None
        return self._rates[currency][index - 1]

    def to_reporting(self, amount: Any, currency: str, on: date) -> Decimal | None:
        """``amount`` in the reporting currency, in cents (sums the database gives back may
        carry more places); None without a rate."""
        amount = _decimal(amount)
        if currency == self.reporting:
            return amount.quantize(CENT, rounding=ROUND_HALF_UP)
        rate = self.rate(currency, on)
        if rate is None:
            return None
        return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


# --- Display -----------------------------------------------------------------------------------


def symbol(currency: str | None) -> str:
    """The symbol shown before an amount of ``currency`` ("" when it has none: then the code)."""
    return CURRENCIES.get(currency or reporting_currency(), "")


def _prefix(currency: str | None) -> str:
    code = currency or reporting_currency()
    return CURRENCIES.get(code) or f"{code} "


def format_money(amount: Any, currency: str | None = None) -> str:
    """ "¥1,234,567.00", "US$12,000.00", "CHF 1,234.00", "-¥5.50"; "" for None. Grouped by
    thousands, two decimals rounded half up, in every language (as in Chinese tables)."""
    if amount is None or amount == "":
        return ""
    try:
        value = _decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}{_prefix(currency)}{abs(value):,.2f}"


def _short(value: Decimal, places: int, *, grouped: bool) -> str:
    """``value`` rounded half up to ``places`` decimals, trailing zeros dropped ("1.2", "100")."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}" if grouped else f"{rounded:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# (shown from, divided by, unit, decimals), largest first.
_LARGE_ZH = ((Decimal("1e8"), Decimal("1e8"), "亿", 1), (Decimal("1e4"), Decimal("1e4"), "万", 1))
_LARGE_EN = (
    (Decimal("1e9"), Decimal("1e9"), "B", 2),
    (Decimal("1e6"), Decimal("1e6"), "M", 2),
    (Decimal("1e4"), Decimal("1e3"), "K", 1),
)


def format_large(amount: Any, currency: str | None = None) -> str:
    """A dashboard figure: in Chinese "¥123.5万" / "¥1.2亿" (one decimal), in English
    "¥1.23M" / "¥4.5B" (two) or "¥12.3K" (from 10,000); below those the full amount
    ("¥8,500.00"). Rounded half up; a figure rounding up to the next unit is shown in it
    (99,999,999 → "¥1亿", not "¥10000万")."""
    if amount is None or amount == "":
        return ""
    try:
        value = _decimal(amount)
    except (InvalidOperation, ValueError):
        return str(amount)
    sign = "-" if value < 0 else ""
    value = abs(value)
    language = translation.get_language() or settings.LANGUAGE_CODE
    chinese = language.lower().startswith("zh")
    steps = _LARGE_ZH if chinese else _LARGE_EN
    for index, (start, divisor, unit, places) in enumerate(steps):
        if value.quantize(CENT, rounding=ROUND_HALF_UP) < start:
            continue
        shown = (value / divisor).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if index > 0 and shown * divisor >= steps[index - 1][0]:
            _start, divisor, unit, places = steps[index - 1]
        figure = _short(value / divisor, places, grouped=not chinese)
        return f"{sign}{_prefix(currency)}{figure}{unit}"
    return format_money(-value if sign else value, currency)


# --- Exchange rates (writes) -------------------------------------------------------------------


def _check_edit(by: User | None) -> None:
    if by is not None:
        require(by, ExchangeRate.record_type, Action.EDIT)


def _clean_currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not code:
        raise field_error("currency", _("This field is required."), ErrorCode.REQUIRED)
    if not CURRENCY_CODE.match(code):
        raise field_error(
            "currency",
            _("Enter a currency as its three-letter ISO code, e.g. USD."),
            ErrorCode.INVALID,
        )
    if code == reporting_currency():
        raise field_error(
            "currency",
            _("%(currency)s is the reporting currency: its rate is always 1.") % {"currency": code},
            MoneyError.REPORTING_CURRENCY,  # type: ignore[arg-type]
        )
    return code


def _clean_rate(value: Any) -> Decimal:
    if value is None or value == "":
        raise field_error("rate", _("This field is required."), ErrorCode.REQUIRED)
    try:
        rate = _decimal(value)
    except (InvalidOperation, ValueError):
        raise field_error("rate", _("Enter a number."), ErrorCode.INVALID) from None
    if not rate.is_finite() or rate <= 0:
        raise field_error("rate", _("The rate must be greater than zero."), ErrorCode.INVALID)
    if rate >= Decimal("1e10") or rate != rate.quantize(Decimal("1e-8"), rounding=ROUND_HALF_UP):
        # What the column holds: 10 digits before the point, 8 after.
        raise field_error(
            "rate",
            _("Enter a rate below 10,000,000,000 with at most 8 decimals."),
            ErrorCode.INVALID,
        )
    return rate


def _clean_day(value: Any) -> date:
    if not value:
        raise field_error("valid_on", _("This field is required."), ErrorCode.REQUIRED)
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise field_error("valid_on", _("Enter a valid date."), ErrorCode.INVALID) from None
    return value


def _day_taken(currency: str, valid_on: date, *, but: int | None = None) -> ExchangeRate | None:
    rows = ExchangeRate.objects.select_for_update().filter(currency=currency, valid_on=valid_on)
    if but is not None:
        rows = rows.exclude(pk=but)
    return rows.first()


def _duplicate(currency: str, valid_on: date) -> ValidationError:
    return field_error(
        "valid_on",
        _("%(currency)s already has a rate from %(day)s: change that one instead.")
        % {"currency": currency, "day": valid_on.isoformat()},
        ErrorCode.DUPLICATE,
    )


@transaction.atomic
def create_rate(
    *, currency: str, valid_on: date, rate: Any, by: User | None, note: str = ""
) -> ExchangeRate:
    """A new rate of ``currency`` from ``valid_on``; refused (code "duplicate" on valid_on)
    when the currency already has a rate from that day."""
    _check_edit(by)
    currency = _clean_currency(currency)
    valid_on = _clean_day(valid_on)
    value = _clean_rate(rate)
    if _day_taken(currency, valid_on) is not None:
        raise _duplicate(currency, valid_on)
    return core_services.create_record(
        ExchangeRate,
        by=by,
        currency=currency,
        valid_on=valid_on,
        rate=value,
        note=str(note or "").strip(),
    )


@transaction.atomic
def update_rate(
    exchange_rate: ExchangeRate, /, *, by: User | None, version: int | None = None, **facts: Any
) -> ExchangeRate:
    """Change a rate's currency, day, value or note (version-checked); another rate of the
    same currency and day is refused as in ``create_rate``."""
    _check_edit(by)
    unknown = set(facts) - {"currency", "valid_on", "rate", "note"}
    if unknown:
        raise TypeError(f"unknown exchange rate facts: {sorted(unknown)}")
    changes: dict[str, Any] = {}
    if "currency" in facts:
        changes["currency"] = _clean_currency(facts["currency"])
    if "valid_on" in facts:
        changes["valid_on"] = _clean_day(facts["valid_on"])
    if "rate" in facts:
        changes["rate"] = _clean_rate(facts["rate"])
    if "note" in facts:
        changes["note"] = str(facts["note"] or "").strip()
    currency = changes.get("currency", exchange_rate.currency)
    valid_on = changes.get("valid_on", exchange_rate.valid_on)
    if _day_taken(currency, valid_on, but=exchange_rate.pk) is not None:
        raise _duplicate(currency, valid_on)
    return core_services.update_record(exchange_rate, by=by, expected_version=version, **changes)


@transaction.atomic
def set_rate(
    *,
    currency: str,
    valid_on: date,
    rate: Any,
    by: User | None,
    note: str = "",
    version: int | None = None,
) -> ExchangeRate:
    """The rate of ``currency`` from ``valid_on``: the day's rate is changed if there is one
    (``version`` checked against it), else created. Audited either way."""
    _check_edit(by)
    code = _clean_currency(currency)
    day = _clean_day(valid_on)
    existing = _day_taken(code, day)
    if existing is None:
        return create_rate(currency=code, valid_on=day, rate=rate, by=by, note=note)
    return update_rate(existing, by=by, version=version, rate=rate, note=note)


@transaction.atomic
def delete_rate(rate: ExchangeRate, *, by: User | None) -> None:
    """Move a rate to the recycle bin (amounts of its days then convert with the rate before)."""
    _check_edit(by)
    core_services.soft_delete(rate, by=by)


@transaction.atomic
def restore_rate(rate: ExchangeRate, *, by: User | None) -> None:
    """Bring a rate back from the recycle bin, unless its day has a rate again since."""
    _check_edit(by)
    if rate.deleted_at is not None and _day_taken(rate.currency, rate.valid_on) is not None:
        raise _duplicate(rate.currency, rate.valid_on)
    core_services.restore(rate, by=by)
