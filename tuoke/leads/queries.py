"""Reads that are more than a filter: the lead search (the global search's conditions), and
what each channel cost and brought in over a period (leads, conversions, cost per lead and per
converted customer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from tuoke.core.models import Action
from tuoke.core.scope import can
from tuoke.core.search import clean_query

from .models import OPEN_STATUSES, Channel, ChannelCost, Lead, LeadStatus
from .search import lead_condition

if TYPE_CHECKING:
    from tuoke.org.models import User

CENT = Decimal("0.01")


def search(leads: QuerySet[Lead], q: str) -> QuerySet[Lead]:
    """The leads among ``leads`` (already within the user's scope) that the global search finds
    for ``q``: company, short or contact name starting with it (with or without the region),
    from three characters on any part of the name, pinyin (full or initials), phone as typed,
    e-mail or credit code. Each condition is answered from an index (see
    ``tuoke.leads.search``), so the list never scans the leads table for a search."""
    q = clean_query(q)
    if not q:
        return leads
    return leads.filter(lead_condition(q))


def flagged(leads: QuerySet[Lead], yes: bool = True) -> QuerySet[Lead]:
    """Open leads flagged as duplicates (``yes``), or every other lead."""
    condition = Q(status__in=OPEN_STATUSES) & (
        Q(duplicate_of__isnull=False) | Q(duplicate_customer__isnull=False)
    )
    return leads.filter(condition) if yes else leads.exclude(condition)


@dataclass
class ChannelFigures:
    """One channel over one period; ``cost`` is None for users who may not see costs."""

    channel: Channel | None
    start: date
    end: date
    cost: Decimal | None
    leads: int = 0
    cleaned: int = 0
    converted: int = 0
    customers: int = 0

    @property
    def cost_per_lead(self) -> Decimal | None:
        if self.cost is None or not self.leads:
            return None
        return (self.cost / self.leads).quantize(CENT, ROUND_HALF_UP)

    @property
    def cost_per_customer(self) -> Decimal | None:
        if self.cost is None or not self.customers:
            return None
        return (self.cost / self.customers).quantize(CENT, ROUND_HALF_UP)

    @property
    def conversion_rate(self) -> Decimal | None:
        """Converted leads per lead, in percent."""
        if not self.leads:
            return None
        return (Decimal(self.converted) * 100 / self.leads).quantize(Decimal("0.1"), ROUND_HALF_UP)


def prorated(cost: ChannelCost, start: date, end: date) -> Decimal:
    """The part of a cost entry falling within [start, end], by days."""
    first, last = max(cost.period_start, start), min(cost.period_end, end)
    if last < first:
        return Decimal(0)
    days = (cost.period_end - cost.period_start).days + 1
    share = Decimal((last - first).days + 1) / Decimal(days)
    return (cost.amount * share).quantize(CENT, ROUND_HALF_UP)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def channel_figures(
    *, user: User, start: date, end: date, channels: list[Channel] | None = None
) -> list[ChannelFigures]:
    """Per channel, the leads acquired from ``start`` to ``end`` (inclusive, in the user's time
    zone) within the user's data scope, how many were cleaned and converted, the cost of the
    period (entries prorated by days) and cost per lead and per converted customer.

    Two queries whatever the number of channels.
    """
    if channels is None:
        channels = list(Channel.objects.all())
    ids = [c.pk for c in channels]
    leads = Lead.objects.visible_to(user).filter(
        channel_id__in=ids,
        created_at__gte=_day_start(start),
        created_at__lt=_day_start(end + timedelta(days=1)),
    )
    counts = {
        row["channel_id"]: row
        for row in leads.values("channel_id").annotate(
            n=Count("pk"),
            cleaned=Count("pk", filter=Q(status=LeadStatus.CLEANED)),
            converted=Count("pk", filter=Q(status=LeadStatus.CONVERTED)),
            customers=Count("converted_customer", distinct=True),
        )
    }
    shows_cost = can(user, "channel_cost", Action.VIEW)
    costs: dict[int, Decimal] = {}
    if shows_cost:
        entries = ChannelCost.objects.filter(
            channel_id__in=ids, period_start__lte=end, period_end__gte=start
        )
        for entry in entries:
            costs[entry.channel_id] = costs.get(entry.channel_id, Decimal(0)) + prorated(
                entry, start, end
            )
    figures = []
    for channel in channels:
        row = counts.get(channel.pk, {})
        figures.append(
            ChannelFigures(
                channel=channel,
                start=start,
                end=end,
                cost=costs.get(channel.pk, Decimal("0.00")) if shows_cost else None,
                leads=row.get("n", 0),
                cleaned=row.get("cleaned", 0),
                converted=row.get("converted", 0),
                customers=row.get("customers", 0),
            )
        )
    return figures


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def monthly_figures(*, user: User, channel: Channel, months: int = 6) -> list[ChannelFigures]:
    """The channel's figures for each of the last ``months`` calendar months (this one too),
    newest first; two queries."""
    today = timezone.localdate()
    starts = [month_start(today, back) for back in range(months)]
    ends = [month_start(today, back - 1) - timedelta(days=1) for back in range(months)]
    zone = timezone.get_current_timezone()
    rows = (
        Lead.objects.visible_to(user)
        .filter(channel=channel, created_at__gte=_day_start(starts[-1]))
        .annotate(month=TruncMonth("created_at", tzinfo=zone))
        .values("month")
        .annotate(
            n=Count("pk"),
            cleaned=Count("pk", filter=Q(status=LeadStatus.CLEANED)),
            converted=Count("pk", filter=Q(status=LeadStatus.CONVERTED)),
            customers=Count("converted_customer", distinct=True),
        )
    )
    counts = {timezone.localtime(row["month"], zone).date(): row for row in rows}
    shows_cost = can(user, "channel_cost", Action.VIEW)
    entries = (
        list(
            ChannelCost.objects.filter(
                channel=channel, period_start__lte=ends[0], period_end__gte=starts[-1]
            )
        )
        if shows_cost
        else []
    )
    figures = []
    for start, end in zip(starts, ends, strict=True):
        row = counts.get(start, {})
        cost = sum((prorated(e, start, end) for e in entries), Decimal("0.00"))
        figures.append(
            ChannelFigures(
                channel=channel,
                start=start,
                end=end,
                cost=cost if shows_cost else None,
                leads=row.get("n", 0),
                cleaned=row.get("cleaned", 0),
                converted=row.get("converted", 0),
                customers=row.get("customers", 0),
            )
        )
    return figures
