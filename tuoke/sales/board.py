"""The kanban board of a pipeline: one column per open stage with its totals and first cards,
and the won and lost end stages as summaries.

Everything is read through ``Opportunity.objects.visible_to(user)``. The cost does not grow
with the data: the totals of every stage come from one grouped query, the cards from one
LIMITed query per open stage (served by the stage/owner index), whatever the number of
opportunities behind them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, QuerySet, Sum
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone

from .models import REQUIRABLE_FIELDS, Opportunity, Pipeline, Stage, StageKind

if TYPE_CHECKING:
    from tuoke.org.models import OrgUnit, User

PER_COLUMN = 20  # cards shown per column before "more"
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class BoardFilters:
    """What narrows a board: an owner, the owners of a unit and the units below it, and the
    month the deals are expected to close in (any day of it)."""

    owner: User | None = None
    unit: OrgUnit | None = None
    close_month: date | None = None

    @classmethod
    def of(cls, filters: BoardFilters | Mapping[str, Any] | None) -> BoardFilters:
        if filters is None:
            return cls()
        if isinstance(filters, BoardFilters):
            return filters
        return cls(**{k: v for k, v in filters.items() if k in ("owner", "unit", "close_month")})

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for "more" links and moves)."""
        found = {}
        if self.owner is not None:
            found["owner"] = str(self.owner.pk)
        if self.unit is not None:
            found["unit"] = str(self.unit.pk)
        if self.close_month is not None:
            found["close_month"] = self.close_month.strftime("%Y-%m")
        return found


@dataclass
class Column:
    """A stage on the board: its totals over every filtered opportunity in it, and (for an
    open stage) the first cards."""

    stage: Stage
    count: int = 0
    amount: Decimal = ZERO
    cards: list[Opportunity] = field(default_factory=list)
    has_more: bool = False

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.stage.probability / 100).quantize(CENT)

    @property
    def is_open(self) -> bool:
        return self.stage.kind == StageKind.OPEN

    @property
    def required_labels(self) -> list[str]:
        """What a card needs to enter this stage, as the column header says it."""
        return [
            str(REQUIRABLE_FIELDS.get(key, key.removeprefix("custom:")))
            for key in self.stage.required_fields or []
        ]


@dataclass
class Board:
    pipeline: Pipeline
    filters: BoardFilters
    columns: list[Column]  # open stages, in order
    won: Column | None
    lost: Column | None

    @property
    def stages(self) -> list[Stage]:
        return [c.stage for c in self.all_columns]

    @property
    def all_columns(self) -> list[Column]:
        return [*self.columns, *(c for c in (self.won, self.lost) if c is not None)]

    @property
    def open_count(self) -> int:
        return sum(c.count for c in self.columns)

    @property
    def open_amount(self) -> Decimal:
        return sum((c.amount for c in self.columns), ZERO)

    @property
    def open_weighted_amount(self) -> Decimal:
        return sum((c.weighted_amount for c in self.columns), ZERO)


def board_stages(pipeline: Pipeline) -> list[Stage]:
    """The stages a board shows: the active open ones in order, then won and lost (one
    query). Archived stages are left out: nothing open may sit in them."""
    stages = list(pipeline.stages.filter(active=True).order_by("sort_order", "pk"))
    opened = [s for s in stages if s.kind == StageKind.OPEN]
    won = [s for s in stages if s.kind == StageKind.WON][:1]
    lost = [s for s in stages if s.kind == StageKind.LOST][:1]
    return [*opened, *won, *lost]


def filtered(user: User, stages: list[Stage], filters: BoardFilters) -> QuerySet[Opportunity]:
    """The opportunities of these stages the user may see, narrowed by the filters. Written
    by stage ids (not the pipeline) so the stage/owner index serves it."""
    opportunities = Opportunity.objects.visible_to(user).filter(stage_id__in=[s.pk for s in stages])
    if filters.owner is not None:
        opportunities = opportunities.filter(owner_id=filters.owner.pk)
    if filters.unit is not None:
        from tuoke.org.models import User as Person

        # The owners' ids rather than a join to their units (see OwnedModel.scope_q).
        owners = list(
            Person.objects.filter(unit__path__startswith=filters.unit.path).values_list(
                "pk", flat=True
            )
        )
        opportunities = opportunities.filter(owner_id__in=owners)
    if filters.close_month is not None:
        first = filters.close_month.replace(day=1)
        after = (
            first.replace(year=first.year + 1, month=1)
            if first.month == 12
            else (first.replace(month=first.month + 1))
        )
        opportunities = opportunities.filter(
            expected_close_date__gte=first, expected_close_date__lt=after
        )
    return opportunities


def cards(
    opportunities: QuerySet[Opportunity], stage: Stage, *, offset: int = 0, limit: int = PER_COLUMN
) -> tuple[list[Opportunity], bool]:
    """One stage's cards from ``offset``, the most recently changed first (a card just moved
    tops its new column), and whether more follow."""
    ids = card_ids(opportunities, stage, offset=offset, limit=limit)
    found = load_cards({stage.pk: ids}, [stage])
    return found[stage.pk][:limit], len(ids) > limit


def card_ids(
    opportunities: QuerySet[Opportunity], stage: Stage, *, offset: int = 0, limit: int = PER_COLUMN
) -> list[int]:
    """The ids of a stage's cards from ``offset``, one more than ``limit`` (to tell whether
    more follow). The ids first and their rows after: asked for the rows with their customers
    at once, PostgreSQL joined every customer of the stage (a unit's 1,400) before taking 21."""
    return list(
        opportunities.filter(stage_id=stage.pk)
        .order_by("-updated_at", "-pk")
        .values_list("pk", flat=True)[offset : offset + limit + 1]
    )


def load_cards(ids: dict[int, list[int]], stages: list[Stage]) -> dict[int, list[Opportunity]]:
    """stage id → its cards in the order of ``ids``, dressed, read in one query."""
    wanted = [pk for stage_ids in ids.values() for pk in stage_ids]
    found = Opportunity.objects.filter(pk__in=wanted).select_related("customer", "owner").in_bulk()
    now = timezone.now()
    by_id = {stage.pk: stage for stage in stages}
    loaded: dict[int, list[Opportunity]] = {}
    for stage_id, stage_ids in ids.items():
        stage = by_id[stage_id]
        rows = [found[pk] for pk in stage_ids if pk in found]
        for opportunity in rows:
            opportunity.stage = stage  # known: no query per card for the weighted amount
            dress(opportunity, stage, now=now)
        loaded[stage_id] = rows
    return loaded


def dress(opportunity: Opportunity, stage: Stage, *, now=None) -> Opportunity:
    """What a card shows beside the fields: days in the stage, whether it stalls (idle
    longer than the stage's expected days) and the link to the opportunity."""
    now = now or timezone.now()
    opportunity.days_in_stage = max((now - opportunity.stage_entered_at).days, 0)
    idle_since = opportunity.last_activity_at or opportunity.stage_entered_at
    opportunity.idle_days = max((now - idle_since).days, 0)
    opportunity.stalled = bool(
        stage.expected_days is not None and opportunity.idle_days > stage.expected_days
    )
    opportunity.detail_url = detail_url(opportunity.pk)
    opportunity.move_url = _url_of("sales:board_move", opportunity.pk)
    opportunity.close_url = _url_of("sales:board_close", opportunity.pk)
    return opportunity


def detail_url(pk: int) -> str:
    """The opportunity's page, once the pages that show it are installed."""
    try:
        return _url_of("sales:opportunity_detail", pk)
    except NoReverseMatch:
        return ""


_MARKER = 987654321


def _url_of(name: str, pk: int) -> str:
    """``reverse(name, args=[pk])`` without resolving it for each card: the address around
    a placeholder id, reversed once per request's script prefix."""
    key = (name, get_script_prefix())
    if key not in _url_parts:
        _url_parts[key] = tuple(reverse(name, args=[_MARKER]).split(str(_MARKER)))
    before, after = _url_parts[key]
    return f"{before}{pk}{after}"


_url_parts: dict[tuple[str, str], tuple[str, ...]] = {}


def totals(
    opportunities: QuerySet[Opportunity], stages: list[Stage]
) -> dict[int, tuple[int, Decimal]]:
    """stage id → (count, amount) of the filtered opportunities, in one grouped query."""
    rows = (
        opportunities.order_by()
        .values("stage_id")
        .annotate(count=Count("pk"), amount=Sum("amount"))
        .values_list("stage_id", "count", "amount")
    )
    return {stage_id: (count, amount or ZERO) for stage_id, count, amount in rows}


def columns_of(
    user: User, pipeline: Pipeline, filters: BoardFilters, *, with_cards: bool
) -> tuple[list[Column], Column | None, Column | None]:
    stages = board_stages(pipeline)
    opportunities = filtered(user, stages, filters)
    found = totals(opportunities, stages)
    columns, won, lost = [], None, None
    ids: dict[int, list[int]] = {}
    for stage in stages:
        count, amount = found.get(stage.pk, (0, ZERO))
        column = Column(stage=stage, count=count, amount=Decimal(amount).quantize(CENT))
        if stage.kind == StageKind.WON:
            won = column
        elif stage.kind == StageKind.LOST:
            lost = column
        else:
            if with_cards and count:
                ids[stage.pk] = card_ids(opportunities, stage)
            columns.append(column)
    if ids:
        loaded = load_cards(ids, stages)
        for column in columns:
            if column.stage.pk in ids:
                column.cards = loaded[column.stage.pk][:PER_COLUMN]
                column.has_more = len(ids[column.stage.pk]) > PER_COLUMN
    return columns, won, lost


def board_data(
    user: User,
    pipeline: Pipeline,
    filters: BoardFilters | Mapping[str, Any] | None = None,
    *,
    with_cards: bool = True,
) -> Board:
    """The board of ``pipeline`` as ``user`` sees it. ``filters``: a BoardFilters or a
    mapping with any of ``owner`` (a user), ``unit`` (an org unit, its subtree included) and
    ``close_month`` (a date in the month). Without cards, only the totals (after a move)."""
    chosen = BoardFilters.of(filters)
    columns, won, lost = columns_of(user, pipeline, chosen, with_cards=with_cards)
    return Board(pipeline=pipeline, filters=chosen, columns=columns, won=won, lost=lost)
