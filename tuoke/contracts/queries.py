"""Reads over contracts that are more than a filter: receivables ageing (contracts awaiting
payment), contracts ending soon, and renewal figures per period. The boss dashboard, the
report pages, the API and the daily plan read them here.

Everything starts from ``Contract.objects.visible_to(user)``; figures are set-based (a few
grouped queries whatever the number of contracts) and in the reporting currency, converted
with ``tuoke.core.money.RateTable`` per (owner, currency) group.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from tuoke.core import scope
from tuoke.core.money import RateTable, reporting_currency

from .models import Contract, ContractSettings, ContractStatus, Instalment

if TYPE_CHECKING:
    from tuoke.org.models import OrgUnit, User

BUCKETS = ("not_due", "1_30", "31_90", "over_90")
# Contracts whose money is still expected: approved and not terminated.
AWAITING_STATUSES = (ContractStatus.EFFECTIVE, ContractStatus.COMPLETED)
# A renewal that keeps its contract off "ending soon": any living one not terminated.
DEAD_RENEWAL = (ContractStatus.TERMINATED,)
RENEWED_STATUSES = (ContractStatus.EFFECTIVE, ContractStatus.COMPLETED)

ZERO = Decimal("0")
MONEY = DecimalField(max_digits=18, decimal_places=2)
RATE = DecimalField(max_digits=18, decimal_places=8)


def _zero() -> Value:
    return Value(ZERO, output_field=MONEY)


def _zeros() -> dict[str, Decimal]:
    return dict.fromkeys(BUCKETS, ZERO)


# --- Who the figures are about -----------------------------------------------------------------


def people_in_scope(user: User) -> QuerySet:
    """The people whose contracts ``user`` sees by his grant (the owner filter's choices)."""
    return scope.people_in_scope(user, Contract.record_type)


def units_in_scope(user: User) -> QuerySet:
    """The units whose people's contracts ``user`` sees (the unit filter's choices)."""
    return scope.units_in_scope(user, Contract.record_type)


def unit_owner_ids(unit: OrgUnit) -> list[int]:
    """The people of a unit and the units below it (a unit's figures are its owners')."""
    from tuoke.org.models import User as Person

    return list(
        Person.objects.filter(unit__path__startswith=unit.path).values_list("pk", flat=True)
    )


def narrowed(contracts: QuerySet[Contract], *, owner=None, unit=None) -> QuerySet[Contract]:
    """``contracts`` of one owner and/or of the owners in a unit's subtree (by their ids, as
    the sales board does: cheaper than a join to the owners' units)."""
    if owner is not None:
        contracts = contracts.filter(owner_id=getattr(owner, "pk", owner))
    if unit is not None:
        contracts = contracts.filter(owner_id__in=unit_owner_ids(unit))
    return contracts


# --- Receivables ---------------------------------------------------------------------------------


def bucket_of(due_on: date, as_of: date) -> str:
    """The ageing bucket of money due on ``due_on`` seen on ``as_of``."""
    late = (as_of - due_on).days
    if late <= 0:
        return "not_due"
    if late <= 30:
        return "1_30"
    if late <= 90:
        return "31_90"
    return "over_90"


def _bucket_q(bucket: str, as_of: date, prefix: str = "") -> Q:
    """Instalments (through ``prefix``) due in ``bucket`` as seen on ``as_of``."""
    due = f"{prefix}due_on"
    if bucket == "not_due":
        return Q(**{f"{due}__gte": as_of})
    if bucket == "1_30":
        return Q(**{f"{due}__lt": as_of, f"{due}__gte": as_of - timedelta(days=30)})
    if bucket == "31_90":
        return Q(
            **{
                f"{due}__lt": as_of - timedelta(days=30),
                f"{due}__gte": as_of - timedelta(days=90),
            }
        )
    if bucket == "over_90":
        return Q(**{f"{due}__lt": as_of - timedelta(days=90)})
    raise ValueError(bucket)


def _open_instalments(prefix: str = "") -> Q:
    """Living instalments with money still due on them."""
    return Q(
        **{f"{prefix}deleted_at__isnull": True, f"{prefix}amount__gt": F(f"{prefix}paid_amount")}
    )


def awaiting_payment(user: User, *, owner=None, unit=None) -> QuerySet[Contract]:
    """Contracts awaiting payment that ``user`` sees: effective or completed, with less
    received than their amount."""
    contracts = Contract.objects.visible_to(user).filter(
        status__in=AWAITING_STATUSES, amount__gt=F("received_amount")
    )
    return narrowed(contracts, owner=owner, unit=unit)


@dataclass
class Ageing:
    """Outstanding money per bucket (and in total) in the reporting currency."""

    buckets: dict[str, Decimal] = field(default_factory=_zeros)
    contracts: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def overdue(self) -> Decimal:
        return self.total - self.buckets["not_due"]

    def add(self, other: Ageing) -> None:
        for bucket in BUCKETS:
            self.buckets[bucket] += other.buckets[bucket]
        self.contracts += other.contracts


@dataclass
class OwnerAgeing(Ageing):
    owner: User | None = None


@dataclass
class UnitAgeing(Ageing):
    unit: OrgUnit | None = None


@dataclass
class ReceivableRow:
    """One contract awaiting payment: its outstanding per bucket, in its own currency and in
    the reporting currency (None when its currency has no rate)."""

    contract: Contract
    buckets: dict[str, Decimal]
    reporting_buckets: dict[str, Decimal | None]
    oldest_due_on: date | None
    as_of: date

    @property
    def outstanding(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def reporting_outstanding(self) -> Decimal | None:
        values = list(self.reporting_buckets.values())
        return None if any(v is None for v in values) else sum(values, ZERO)  # type: ignore[arg-type]

    @property
    def days_overdue(self) -> int:
        return 0 if self.oldest_due_on is None else (self.as_of - self.oldest_due_on).days


@dataclass
class Receivables:
    """Receivables ageing on ``as_of`` of the contracts a user sees (narrowed to an owner or
    a unit's subtree).

    How it is counted (also said on the page):
    - contracts awaiting payment: effective or completed, amount above the money received
      (payments confirmed by finance);
    - each instalment of their payment plan with money still due (amount − paid) falls in a
      bucket by its due date: not due (due on ``as_of`` or later), 1–30, 31–90 or over 90 days
      overdue;
    - the part of a contract's amount its plan does not cover and that was not received
      (money received beyond what was matched to instalments pays it first) counts as not due;
      so a contract's buckets add up to its amount − received;
    - amounts are converted into the reporting currency with the rate of ``as_of``, summed per
      owner and currency first; a currency without a rate is left out and named in
      ``missing_rates``;
    - per unit: the contracts of the unit's people and of the units below it.
    """

    as_of: date
    currency: str
    total: Ageing
    by_owner: list[OwnerAgeing]
    by_unit: list[UnitAgeing]
    missing_rates: set[str]
    contracts: QuerySet[Contract]
    rates: RateTable

    def in_bucket(self, bucket: str | None) -> QuerySet[Contract]:
        """The contracts behind a figure: those with outstanding money in ``bucket`` (all
        awaiting payment without one)."""
        if bucket is None or bucket == "":
            return self.contracts
        in_bucket = Instalment.objects.filter(
            _open_instalments(), _bucket_q(bucket, self.as_of), contract=OuterRef("pk")
        )
        if bucket != "not_due":
            return self.contracts.filter(Exists(in_bucket))
        planned_open = (
            Instalment.objects.filter(_open_instalments(), contract=OuterRef("pk"))
            .order_by()
            .values("contract")
            .annotate(open=Sum(F("amount") - F("paid_amount")))
            .values("open")
        )
        outstanding = F("amount") - F("received_amount")
        return self.contracts.annotate(
            planned_open=Coalesce(Subquery(planned_open, output_field=MONEY), _zero())
        ).filter(Q(Exists(in_bucket)) | Q(planned_open__lt=outstanding))

    def ordered(self, contracts: QuerySet[Contract], order: str = "outstanding") -> QuerySet:
        """``contracts`` largest outstanding first (in the reporting currency), or
        (``oldest``) the longest overdue first."""
        if order == "oldest":
            oldest = (
                Instalment.objects.filter(
                    _open_instalments(), contract=OuterRef("pk"), due_on__lt=self.as_of
                )
                .order_by()
                .values("contract")
                .annotate(first=Min("due_on"))
                .values("first")
            )
            return contracts.annotate(oldest_due_on=Subquery(oldest)).order_by(
                F("oldest_due_on").asc(nulls_last=True), F("ends_on").asc(nulls_last=True), "pk"
            )
        # Outstanding × the rate of its currency, so that US$10,000 weighs as ¥72,000.
        rates = [
            When(currency=currency, then=Value(self.rates.rate(currency, self.as_of) or ZERO))
            for currency in self.rates.currencies
        ]
        factor = Case(*rates, default=Value(Decimal(1)), output_field=RATE) if rates else None
        outstanding = F("amount") - F("received_amount")
        return contracts.annotate(
            open_amount=ExpressionWrapper(
                outstanding * factor if factor is not None else outstanding, output_field=MONEY
            )
        ).order_by("-open_amount", "pk")

    def rows(self, contracts: Iterable[Contract]) -> list[ReceivableRow]:
        """The ageing of these contracts (a page of them): one query for their instalments
        and one for the rates, whatever their number."""
        contracts = list(contracts)
        ids = [c.pk for c in contracts]
        per_contract: dict[int, dict[str, Decimal]] = defaultdict(_zeros)
        oldest: dict[int, date] = {}
        rows = (
            Instalment.objects.filter(_open_instalments(), contract_id__in=ids)
            .order_by()
            .values_list("contract_id", "due_on", "amount", "paid_amount")
        )
        for contract_id, due_on, amount, paid in rows:
            bucket = bucket_of(due_on, self.as_of)
            per_contract[contract_id][bucket] += amount - paid
            if bucket != "not_due" and (contract_id not in oldest or due_on < oldest[contract_id]):
                oldest[contract_id] = due_on
        table = RateTable({c.currency for c in contracts}, until=self.as_of)
        found = []
        for contract in contracts:
            buckets = per_contract[contract.pk]
            buckets["not_due"] += contract.outstanding - sum(buckets.values(), ZERO)
            found.append(
                ReceivableRow(
                    contract=contract,
                    buckets=buckets,
                    reporting_buckets={
                        b: table.to_reporting(v, contract.currency, self.as_of)
                        for b, v in buckets.items()
                    },
                    oldest_due_on=oldest.get(contract.pk),
                    as_of=self.as_of,
                )
            )
        return found


def money_version() -> str:
    """A fingerprint of everything receivables count: it moves with every contract created,
    changed (its plan changed, money received: both touch ``updated_at``), deleted or
    restored, every payment recorded, confirmed, rejected or deleted, and every exchange
    rate. One query over the living rows' indexes."""
    from tuoke.core.models import ExchangeRate

    from .models import Payment

    quote = connection.ops.quote_name

    def living(model) -> str:
        return f"FROM {quote(model._meta.db_table)} WHERE deleted_at IS NULL"

    parts = [
        f"COUNT(*) {living(Contract)}",
        f"MAX(updated_at) {living(Contract)}",
        f"COUNT(*) {living(Payment)}",
        f"MAX(updated_at) {living(Payment)}",
        f"COUNT(*) FROM {quote(ExchangeRate._meta.db_table)}",
        f"MAX(updated_at) FROM {quote(ExchangeRate._meta.db_table)}",
    ]
    # Table names from the models; nothing from the request.
    sql = "SELECT " + ", ".join(f"(SELECT {part})" for part in parts)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return repr(cursor.fetchone())


def receivables(user: User, *, as_of: date | None = None, owner=None, unit=None) -> Receivables:
    """Receivables ageing of the contracts ``user`` sees (see ``Receivables`` for how it is
    counted). The figures are kept per user, day and filters until contracts, payments or
    rates change (``money_version``) or the org chart does (the directory's fingerprint): a
    dashboard opened again costs one query instead of the grouped ones."""
    from tuoke.core import directory

    as_of = as_of or timezone.localdate()
    contracts = awaiting_payment(user, owner=owner, unit=unit)
    key = ":".join(
        [
            as_of.isoformat(),
            str(getattr(owner, "pk", owner) or ""),
            str(getattr(unit, "pk", unit) or ""),
            hashlib.sha256(money_version().encode()).hexdigest()[:16],
        ]
    )
    total, by_owner, by_unit, currencies, missing = directory.cached_for(
        user, f"receivables:{key}", lambda: _ageing(contracts, as_of)
    )
    return Receivables(
        as_of=as_of,
        currency=reporting_currency(),
        total=total,
        by_owner=by_owner,
        by_unit=by_unit,
        missing_rates=set(missing),
        contracts=contracts,
        rates=RateTable(set(currencies), until=as_of),
    )


def _ageing(
    contracts: QuerySet[Contract], as_of: date
) -> tuple[Ageing, list[OwnerAgeing], list[UnitAgeing], set[str], set[str]]:
    """The figures of ``receivables``: three grouped queries (instalments per owner and
    currency, contracts per owner and currency, the rates) and two small ones for the people
    and units named."""
    from tuoke.org.models import OrgUnit as Unit
    from tuoke.org.models import User as Person

    # Money still due per bucket on the instalments, per owner and currency.
    sums = {
        bucket: Sum(
            F("amount") - F("paid_amount"),
            filter=_bucket_q(bucket, as_of),
            output_field=MONEY,
        )
        for bucket in BUCKETS
    }
    planned = defaultdict(_zeros)
    instalments = (
        Instalment.objects.filter(_open_instalments(), contract__in=contracts.values("pk"))
        .order_by()
        .values("contract__owner_id", "contract__currency")
        .annotate(**{f"b_{bucket}": expression for bucket, expression in sums.items()})
    )
    for row in instalments:
        key = (row["contract__owner_id"], row["contract__currency"])
        for bucket in BUCKETS:
            planned[key][bucket] = row[f"b_{bucket}"] or ZERO
    # What is outstanding per owner and currency; beyond its plan's open instalments it is
    # not due yet.
    groups = (
        contracts.order_by()
        .values("owner_id", "currency")
        .annotate(
            outstanding=Sum(F("amount") - F("received_amount"), output_field=MONEY),
            count=Count("pk"),
        )
    )
    grouped: dict[tuple[int, str], tuple[Decimal, int]] = {
        (g["owner_id"], g["currency"]): (g["outstanding"] or ZERO, g["count"]) for g in groups
    }
    table = RateTable({currency for _owner, currency in grouped}, until=as_of)
    per_owner: dict[int, OwnerAgeing] = {}
    for (owner_id, currency), (outstanding, count) in grouped.items():
        buckets = dict(planned[(owner_id, currency)])
        buckets["not_due"] += outstanding - sum(buckets.values(), ZERO)
        rate = table.rate(currency, as_of)
        if rate is None:
            continue
        ageing = per_owner.setdefault(owner_id, OwnerAgeing())
        ageing.contracts += count
        for bucket, amount in buckets.items():
            ageing.buckets[bucket] += table.to_reporting(amount, currency, as_of) or ZERO
    people = Person.objects.select_related("unit").in_bulk(list(per_owner))
    total = Ageing()
    by_unit: dict[int, UnitAgeing] = {}
    unit_paths: dict[int, str] = {}
    for owner_id, ageing in per_owner.items():
        ageing.owner = people.get(owner_id)
        total.add(ageing)
        person_unit = ageing.owner.unit if ageing.owner is not None else None
        if person_unit is not None:
            unit_paths[person_unit.pk] = person_unit.path
    # A unit counts its people's contracts and those of the units below it.
    units = (
        list(
            Unit.all_objects.filter(path__in=_ancestor_paths(unit_paths.values())).order_by("path")
        )
        if unit_paths
        else []
    )
    by_path = {u.path: u for u in units}
    for ageing in per_owner.values():
        if ageing.owner is None or ageing.owner.unit_id is None:
            continue
        for path in _ancestor_paths([ageing.owner.unit.path]):
            found = by_path.get(path)
            if found is None:
                continue
            unit_ageing = by_unit.setdefault(found.pk, UnitAgeing(unit=found))
            unit_ageing.add(ageing)
    return (
        total,
        sorted(per_owner.values(), key=lambda a: (-a.total, str(a.owner or ""))),
        [by_unit[u.pk] for u in units if u.pk in by_unit],
        {currency for _owner, currency in grouped},
        set(table.missing),
    )


def _ancestor_paths(paths: Iterable[str]) -> set[str]:
    """Every path on the way to these unit paths ("0001.0004." → "0001.", "0001.0004.")."""
    found: set[str] = set()
    for path in paths:
        parts = [p for p in path.split(".") if p]
        for depth in range(1, len(parts) + 1):
            found.add(".".join(parts[:depth]) + ".")
    return found


# --- Renewals ------------------------------------------------------------------------------------


def live_renewals():
    """Renewals that keep their contract off "ending soon" (OuterRef on the renewed one)."""
    return Contract.objects.filter(renews=OuterRef("pk")).exclude(status__in=DEAD_RENEWAL)


def ending_soon(
    user: User, *, days: int | None = None, as_of: date | None = None, owner=None, unit=None
) -> QuerySet[Contract]:
    """Effective contracts ``user`` sees ending within ``days`` (default: the renewal
    horizon of the contract settings) from ``as_of`` (today), both days included, without a
    living renewal that is not terminated (a draft, pending, effective or completed one);
    soonest first."""
    as_of = as_of or timezone.localdate()
    if days is None:
        days = ContractSettings.current().renewal_horizon_days
    contracts = (
        Contract.objects.visible_to(user)
        .filter(
            status=ContractStatus.EFFECTIVE,
            ends_on__gte=as_of,
            ends_on__lte=as_of + timedelta(days=days),
        )
        .filter(~Exists(live_renewals()))
    )
    return narrowed(contracts, owner=owner, unit=unit).order_by("ends_on", "pk")


def _renewed():
    """Renewals that count: living, effective or completed (OuterRef on the renewed one)."""
    return Contract.objects.filter(renews=OuterRef("pk"), status__in=RENEWED_STATUSES)


@dataclass
class RenewalFigures:
    """Renewals of the contracts ending in [start, end] that a user sees.

    How it is counted (also said on the page):
    - due: effective or completed contracts (terminated ones are not) whose end date is in
      the period, both days included;
    - renewed: those of them with a renewal contract (one that names it as the contract it
      renews) that is effective or completed; drafts and pending renewals do not count yet;
    - rate by count: renewed ÷ due; rate by amount: the amount of the renewed contracts ÷
      the amount of all due contracts;
    - renewal amount: the amount of those renewal contracts;
    - amounts in the reporting currency at the rates of the period's last day, summed per
      currency first; a currency without a rate is left out and named in ``missing_rates``.
    """

    start: date
    end: date
    currency: str
    due_count: int
    due_amount: Decimal
    renewed_count: int
    renewed_amount: Decimal
    renewal_amount: Decimal
    missing_rates: set[str]
    due: QuerySet[Contract]

    @property
    def rate_by_count(self) -> Decimal | None:
        return _ratio(Decimal(self.renewed_count), Decimal(self.due_count))

    @property
    def rate_by_amount(self) -> Decimal | None:
        return _ratio(self.renewed_amount, self.due_amount)

    @property
    def not_renewed_count(self) -> int:
        return self.due_count - self.renewed_count

    def renewed(self) -> QuerySet[Contract]:
        return self.due.filter(Exists(_renewed()))

    def not_renewed(self) -> QuerySet[Contract]:
        return self.due.filter(~Exists(_renewed()))

    def renewals(self) -> QuerySet[Contract]:
        """The renewal contracts counted in ``renewal_amount``."""
        return Contract.objects.filter(
            renews__in=self.due.values("pk"), status__in=RENEWED_STATUSES
        )


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """part ÷ whole as a fraction rounded to 4 decimals (None when nothing is due)."""
    if not whole:
        return None
    return (part / whole).quantize(Decimal("0.0001"))


def renewal_figures(user: User, *, start: date, end: date, owner=None, unit=None) -> RenewalFigures:
    """Renewal figures of the period (see ``RenewalFigures``): two grouped queries and the
    rates, whatever the number of contracts."""
    due = narrowed(
        Contract.objects.visible_to(user).filter(
            status__in=RENEWED_STATUSES, ends_on__gte=start, ends_on__lte=end
        ),
        owner=owner,
        unit=unit,
    )
    by_currency = (
        due.order_by()
        .values("currency")
        .annotate(
            due_n=Count("pk"),
            due_sum=Sum("amount"),
            renewed_n=Count("pk", filter=Q(Exists(_renewed()))),
            renewed_sum=Sum("amount", filter=Q(Exists(_renewed()))),
        )
    )
    renewal_sums = (
        Contract.objects.filter(renews__in=due.values("pk"), status__in=RENEWED_STATUSES)
        .order_by()
        .values("currency")
        .annotate(renewal_sum=Sum("amount"))
    )
    rows = list(by_currency)
    renewal_rows = list(renewal_sums)
    table = RateTable(
        {r["currency"] for r in rows} | {r["currency"] for r in renewal_rows}, until=end
    )

    def converted(amount, currency) -> Decimal:
        return table.to_reporting(amount or ZERO, currency, end) or ZERO

    # Counts need no rate; amounts of a currency without one are left out (and named).
    usable = [r for r in rows if table.rate(r["currency"], end) is not None]
    return RenewalFigures(
        start=start,
        end=end,
        currency=reporting_currency(),
        due_count=sum(r["due_n"] for r in rows),
        due_amount=sum((converted(r["due_sum"], r["currency"]) for r in usable), ZERO),
        renewed_count=sum(r["renewed_n"] for r in rows),
        renewed_amount=sum((converted(r["renewed_sum"], r["currency"]) for r in usable), ZERO),
        renewal_amount=sum(
            (converted(r["renewal_sum"], r["currency"]) for r in renewal_rows), ZERO
        ),
        missing_rates=set(table.missing),
        due=due,
    )


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The first and last day of the month, quarter or year ``day`` is in."""
    if kind == "month":
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    elif kind == "quarter":
        first = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        after = (first + timedelta(days=100)).replace(day=1)
    elif kind == "year":
        first = day.replace(month=1, day=1)
        after = first.replace(year=first.year + 1)
    else:
        raise ValueError(kind)
    return first, after - timedelta(days=1)
