"""Funnel and stage analytics (F16), "customers by stage" and "who can close soon" (F21).

Every figure is about the opportunities of one pipeline that the user may see
(``Opportunity.objects.visible_to(user)``), optionally narrowed to owners or a unit, for a
period ``[start, end)``:

- **Cohort**: the opportunities whose stage history *starts* in the period (their first stage
  visit, made when they were created). Reached, conversion, win rate, days and lost reasons
  are all about the cohort, so each can be counted by hand from the opportunities' histories.
- **Entered S**: the opportunities with a visit of stage S that began in the period (whenever
  they were created). A stay that began before the period is not counted.
- **Reached S**: the cohort members whose history visits S, or any later open stage, or who
  are won (a skipped stage counts as passed). Losing does not reach anything.
- **Conversion S → next**: reached(next) ÷ reached(S); the last open stage's next is "won".
- **Win rate**: won ÷ closed (won + lost) in the cohort; also won ÷ cohort. Status is the
  opportunity's current status.
- **Days in S**: for each *finished* stay in S by a cohort member (it has left S), the time
  between entering and leaving in days, cut to the tenth (3 days 23 hours = 3.9). Stays still
  going are not counted. Median and 80th percentile by nearest rank: sort the n values, take
  the one at position ⌈n × 0.5⌉ (⌈n × 0.8⌉); no averaging, so the figure is always one
  stay's days. Both databases bucket the stays by tenth of a day in SQL (``GROUP BY stage,
  tenths``) and the percentiles are walked from the bucket counts, so SQLite and PostgreSQL
  give the same figure and no stay is loaded into Python.
- **Lost reasons**: the cohort's lost opportunities counted per reason.
- **Bottleneck**: the open stage with the lowest conversion to its next stage (among stages
  reached at least once); on a tie, the one whose median days exceed its expected days by
  the most. Without any conversion (empty cohort), the stage whose median most exceeds its
  expected days, if any does.

Each figure has its drill-down: ``records(user, filters, measure, stage, reason)`` is the
queryset of exactly the opportunities behind it (``Funnel.url`` builds the link).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Case as CaseWhen
from django.db.models import (
    Count,
    Exists,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tuoke.core import directory, scope

from .models import (
    LostReason,
    Opportunity,
    OpportunityStatus,
    Pipeline,
    Stage,
    StageKind,
    StageVisit,
)

if TYPE_CHECKING:
    from tuoke.org.models import OrgUnit, User

PERCENTILES = (0.5, 0.8)

MEASURES = ("cohort", "entered", "reached", "won", "lost", "closed", "days", "customers")


# --- Who and what ---------------------------------------------------------------------------------


def people_in_scope(user: User) -> QuerySet:
    """The people whose opportunities ``user`` sees by his grant (the owner filter's choices)."""
    return scope.people_in_scope(user, Opportunity.record_type)


def units_in_scope(user: User) -> QuerySet:
    """The units whose people's opportunities ``user`` sees (the unit filter's choices)."""
    return scope.units_in_scope(user, Opportunity.record_type)


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the company's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def period_bounds(period: str, today: date | None = None) -> tuple[date, date]:
    """The first day and the day after the last of this month, quarter or year."""
    today = today or timezone.localdate()
    if period == "month":
        first = today.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    elif period == "quarter":
        first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        after = (first + timedelta(days=100)).replace(day=1)
    elif period == "year":
        first = today.replace(month=1, day=1)
        after = first.replace(year=first.year + 1)
    else:
        raise ValueError(period)
    return first, after


def _moment(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return day_start(value)


@dataclass(frozen=True)
class Filters:
    """What the figures are about: a pipeline, a period [start, end) and optionally owners
    or a unit (the unit with the units below it)."""

    pipeline: Pipeline
    start: datetime
    end: datetime
    owner_ids: tuple[int, ...] = ()
    unit: OrgUnit | None = None

    @classmethod
    def of(
        cls,
        *,
        pipeline: Pipeline,
        start: date | datetime,
        end: date | datetime,
        owner_ids=None,
        unit: OrgUnit | None = None,
    ) -> Filters:
        return cls(
            pipeline=pipeline,
            start=_moment(start),
            end=_moment(end),
            owner_ids=tuple(int(i) for i in owner_ids or ()),
            unit=unit,
        )

    def params(self) -> list[tuple[str, Any]]:
        """The query parameters that give these filters back (``start`` and ``end`` as
        local days: ``end`` is the last day of the period)."""
        params: list[tuple[str, Any]] = [
            ("pipeline", self.pipeline.pk),
            ("period", "custom"),
            ("start", timezone.localtime(self.start).date().isoformat()),
            ("end", (timezone.localtime(self.end).date() - timedelta(days=1)).isoformat()),
        ]
        params += [("owner", pk) for pk in self.owner_ids]
        if self.unit is not None:
            params.append(("unit", self.unit.pk))
        return params


def opportunities(user: User, filters: Filters) -> QuerySet[Opportunity]:
    """The pipeline's opportunities ``user`` may see, narrowed to the owners or unit."""
    found = Opportunity.objects.visible_to(user).filter(pipeline=filters.pipeline)
    if filters.owner_ids:
        found = found.filter(owner_id__in=filters.owner_ids)
    if filters.unit is not None:
        found = found.filter(owner__unit__path__startswith=filters.unit.path)
    return found


def _first_visits_in(filters: Filters) -> QuerySet:
    """Ids of the opportunities whose stage history starts in the period."""
    return (
        StageVisit.objects.values("opportunity_id")
        .annotate(first=Min("entered_at"))
        .filter(first__gte=filters.start, first__lt=filters.end)
        .values("opportunity_id")
    )


def _of_cohort(filters: Filters, ref: str = "opportunity_id") -> Q:
    """Rows (visits by default, or opportunities with ``ref="pk"``) of the opportunities whose
    history starts in the period. PostgreSQL checks each history through its index (no visit
    before the start, one before the end); SQLite groups the visits by opportunity instead.
    Each is the faster there: the days of a year of 300,000 opportunities (950,000 visits)
    take 0.9 s against 2.0 s on PostgreSQL, 1.05 s against 1.45 s on SQLite."""
    if connection.vendor == "postgresql":
        before = StageVisit.objects.filter(opportunity_id=OuterRef(ref))
        return ~Exists(before.filter(entered_at__lt=filters.start)) & Exists(
            before.filter(entered_at__lt=filters.end)
        )
    return Q(**{f"{ref}__in": _first_visits_in(filters)})


def cohort(user: User, filters: Filters) -> QuerySet[Opportunity]:
    return opportunities(user, filters).filter(_of_cohort(filters, "pk"))


@dataclass(frozen=True)
class Ladder:
    """The pipeline's stages in order: open ones ranked 0 … n-1, won ranked n."""

    open: list[Stage]
    won: Stage | None
    lost: Stage | None

    @classmethod
    def of(cls, pipeline: Pipeline) -> Ladder:
        stages = list(pipeline.stages.order_by("sort_order", "pk"))
        return cls(
            open=[s for s in stages if s.kind == StageKind.OPEN],
            won=next((s for s in stages if s.kind == StageKind.WON), None),
            lost=next((s for s in stages if s.kind == StageKind.LOST), None),
        )

    @property
    def ids(self) -> list[int]:
        return [s.pk for s in (*self.open, self.won, self.lost) if s is not None]

    @property
    def won_rank(self) -> int:
        return len(self.open)

    def rank_of(self, stage: Stage) -> int:
        if stage.kind == StageKind.WON:
            return self.won_rank
        return [s.pk for s in self.open].index(stage.pk)

    def rank_case(self) -> CaseWhen:
        """SQL: a visit's rank (-1 for the lost stage or another pipeline's)."""
        whens = [When(stage_id=s.pk, then=Value(i)) for i, s in enumerate(self.open)]
        if self.won is not None:
            whens.append(When(stage_id=self.won.pk, then=Value(self.won_rank)))
        return CaseWhen(*whens, default=Value(-1), output_field=IntegerField())

    def at_or_after(self, rank: int) -> list[int]:
        ids = [s.pk for i, s in enumerate(self.open) if i >= rank]
        if self.won is not None:
            ids.append(self.won.pk)
        return ids


# --- Durations -----------------------------------------------------------------------------------


class TenthsOfDays(Func):
    """Whole tenths of a day from ``entered`` to ``left`` (cut, not rounded), in SQL."""

    output_field = IntegerField()
    arity = 2

    def as_sqlite(self, compiler, sql_connection, **extra):
        # julianday keeps about 10 µs; the small addition keeps whole tenths from being cut.
        return self.as_sql(
            compiler,
            sql_connection,
            template=(
                "CAST((julianday(%(left)s) - julianday(%(entered)s)) * 10 + 0.000001 AS INTEGER)"
            ),
            **extra,
        )

    def as_sql(self, compiler, sql_connection, template=None, **extra):
        left, entered = (compiler.compile(e) for e in self.get_source_expressions())
        if template is None:
            template = "CAST(FLOOR(EXTRACT(EPOCH FROM (%(left)s - %(entered)s)) / 8640) AS INTEGER)"
        sql = template % {"left": left[0], "entered": entered[0]}
        return sql, (*left[1], *entered[1])


def nearest_rank(buckets: dict[int, int], share: float) -> int | None:
    """The value at position ⌈n × share⌉ of the sorted values, from {value: how many}."""
    total = sum(buckets.values())
    if not total:
        return None
    wanted = max(1, math.ceil(total * share - 1e-9))
    seen = 0
    for value in sorted(buckets):
        seen += buckets[value]
        if seen >= wanted:
            return value
    return None  # unreachable


# --- The funnel ----------------------------------------------------------------------------------


@dataclass
class StageFigures:
    stage: Stage
    rank: int
    entered: int = 0
    reached: int = 0
    next_name: str = ""
    conversion: float | None = None  # reached(next) ÷ reached(this), 0 … 1
    stays: int = 0  # finished stays measured for the days
    median_days: float | None = None
    p80_days: float | None = None
    bottleneck: bool = False
    bottleneck_reason: str = ""

    @property
    def expected_days(self) -> int | None:
        return self.stage.expected_days

    @property
    def over_expected(self) -> float | None:
        """How many times its expected days the median is (1.5 = half again as long)."""
        if self.median_days is None or not self.expected_days:
            return None
        return self.median_days / self.expected_days

    @property
    def conversion_percent(self) -> int | None:
        return None if self.conversion is None else round(self.conversion * 100)


@dataclass
class ReasonFigures:
    reason_id: int | None
    name: str
    count: int


@dataclass
class Funnel:
    filters: Filters
    stages: list[StageFigures]  # open stages in order
    cohort: int = 0
    won: int = 0
    lost: int = 0
    entered_won: int = 0
    entered_lost: int = 0
    lost_reasons: list[ReasonFigures] = field(default_factory=list)

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def open(self) -> int:
        return self.cohort - self.closed

    @property
    def win_rate(self) -> float | None:
        """Won ÷ closed (won + lost) in the cohort."""
        return self.won / self.closed if self.closed else None

    @property
    def win_rate_of_cohort(self) -> float | None:
        return self.won / self.cohort if self.cohort else None

    @property
    def bottleneck(self) -> StageFigures | None:
        return next((s for s in self.stages if s.bottleneck), None)

    def url(self, measure: str, stage: Stage | int | None = None, reason: Any = None, **extra):
        """The drill-down page listing exactly the opportunities behind a figure."""
        return records_url(self.filters, measure, stage=stage, reason=reason, **extra)


def records_url(
    filters: Filters, measure: str, *, stage: Stage | int | None = None, reason=None, **extra
) -> str:
    params = [*filters.params(), ("measure", measure)]
    if stage is not None:
        params.append(("stage", getattr(stage, "pk", stage)))
    if reason is not None:
        params.append(("reason", reason))
    params += list(extra.items())
    return reverse("sales:funnel_records") + "?" + urlencode(params)


def sales_version() -> str:
    """A fingerprint of everything the funnel counts: it moves with every opportunity
    created, changed (stage moves, wins, losses, transfers all touch ``updated_at``), deleted
    or restored, every stay recorded, and every change of stages or lost reasons. One query,
    read from indexes (a count of the living opportunities is the largest part: ~15 ms on
    300,000)."""
    quote = connection.ops.quote_name

    def table(model) -> str:
        return quote(model._meta.db_table)

    living = f"FROM {table(Opportunity)} WHERE deleted_at IS NULL"
    parts = [
        f"COUNT(*) {living}",
        f"MAX(updated_at) {living}",
        f"MAX(id) FROM {table(StageVisit)}",
        f"MAX(updated_at) FROM {table(Stage)}",
        f"MAX(updated_at) FROM {table(LostReason)}",
        f"COUNT(*) FROM {table(LostReason)}",
    ]
    # Table names from the models; nothing from the request.
    sql = "SELECT " + ", ".join(f"(SELECT {part})" for part in parts)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return repr(cursor.fetchone())


def funnel(
    user: User,
    *,
    start: date | datetime,
    end: date | datetime,
    pipeline: Pipeline,
    owner_ids=None,
    unit: OrgUnit | None = None,
) -> Funnel:
    """The funnel of ``pipeline`` for the period [start, end) as ``user`` may see it (see the
    module's docstring for what each figure means).

    Computed in five queries whatever the data size, but those read every stay of the
    period's opportunities: a year of 300,000 opportunities takes seconds (bench/README.md).
    So the figures are kept, per user (his scope, under the directory's fingerprint) and
    filters, until the sales data changes (``sales_version``): a dashboard opened again, or
    by the next manager with the same scope, costs one query."""
    filters = Filters.of(pipeline=pipeline, start=start, end=end, owner_ids=owner_ids, unit=unit)
    key = hashlib.blake2b(
        repr(
            (pipeline.pk, filters.start, filters.end, filters.owner_ids, unit and unit.pk)
        ).encode()
        + sales_version().encode(),
        digest_size=12,
    ).hexdigest()
    return directory.cached_for(user, f"funnel:{key}", lambda: _funnel(user, filters))


def _funnel(user: User, filters: Filters) -> Funnel:
    pipeline = filters.pipeline
    ladder = Ladder.of(pipeline)
    scoped = opportunities(user, filters)
    figures = [StageFigures(stage=s, rank=i) for i, s in enumerate(ladder.open)]
    result = Funnel(filters=filters, stages=figures)

    # Entered: stays that began in the period, one count of opportunities per stage.
    entered = dict(
        StageVisit.objects.filter(
            stage_id__in=ladder.ids,
            entered_at__gte=filters.start,
            entered_at__lt=filters.end,
            opportunity__in=scoped.values("pk"),
        )
        .values("stage_id")
        .annotate(n=Count("opportunity_id", distinct=True))
        .values_list("stage_id", "n")
    )
    for row in figures:
        row.entered = entered.get(row.stage.pk, 0)
    result.entered_won = entered.get(ladder.won.pk, 0) if ladder.won else 0
    result.entered_lost = entered.get(ladder.lost.pk, 0) if ladder.lost else 0

    # The cohort, each member with its furthest rank, status and lost reason: one pass over
    # the visits, counted by (furthest rank, status, reason) around it.
    members = (
        StageVisit.objects.filter(opportunity__in=scoped.values("pk"))
        .values("opportunity_id", "opportunity__status", "opportunity__lost_reason_id")
        .annotate(first=Min("entered_at"), furthest=Max(ladder.rank_case()))
        .filter(first__gte=filters.start, first__lt=filters.end)
        .values("opportunity_id", "opportunity__status", "opportunity__lost_reason_id", "furthest")
    )
    inner, params = members.query.sql_with_params()
    columns = 'm.furthest, m."opportunity__status", m."opportunity__lost_reason_id"'
    # The inner SQL is Django's own, its parameters kept apart.
    sql = f"SELECT {columns}, COUNT(*) FROM ({inner}) m GROUP BY {columns}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        groups = cursor.fetchall()
    tops: dict[int, int] = defaultdict(int)
    reasons: dict[int | None, int] = defaultdict(int)
    for top, status, reason, count in groups:
        result.cohort += count
        if status == OpportunityStatus.WON:
            result.won += count
            top = ladder.won_rank
        elif status == OpportunityStatus.LOST:
            result.lost += count
            reasons[reason] += count
        tops[top] += count
    for row in figures:
        row.reached = sum(n for top, n in tops.items() if top >= row.rank)
    reached_won = tops.get(ladder.won_rank, 0)
    for row, after in zip(figures, [*figures[1:], None], strict=True):
        next_reached = after.reached if after is not None else reached_won
        row.next_name = after.stage.name if after is not None else won_name(ladder)
        row.conversion = next_reached / row.reached if row.reached else None

    # Days: finished stays of the cohort per stage, bucketed by tenth of a day.
    stays = (
        StageVisit.objects.filter(
            _of_cohort(filters),
            stage_id__in=[s.pk for s in ladder.open],
            left_at__isnull=False,
            opportunity__in=scoped.values("pk"),
        )
        .annotate(tenths=TenthsOfDays("left_at", "entered_at"))
        .values("stage_id", "tenths")
        .annotate(n=Count("pk"))
        .order_by()
    )
    buckets: dict[int, dict[int, int]] = defaultdict(dict)
    for row in stays:
        buckets[row["stage_id"]][row["tenths"]] = row["n"]
    by_stage = {row.stage.pk: row for row in figures}
    for stage_id, counts in buckets.items():
        row = by_stage[stage_id]
        row.stays = sum(counts.values())
        median, p80 = (nearest_rank(counts, share) for share in PERCENTILES)
        row.median_days = None if median is None else median / 10
        row.p80_days = None if p80 is None else p80 / 10
    names = dict(pipeline_reasons(list(reasons)))
    result.lost_reasons = sorted(
        (
            ReasonFigures(reason_id=pk, name=names.get(pk) or _("No reason"), count=n)
            for pk, n in reasons.items()
        ),
        key=lambda r: (-r.count, r.name),
    )
    _mark_bottleneck(figures)
    return result


def won_name(ladder: Ladder) -> str:
    return ladder.won.name if ladder.won is not None else _("Won")


def pipeline_reasons(ids: list) -> list[tuple[int, str]]:
    from .models import LostReason

    return list(
        LostReason.all_objects.filter(pk__in=[i for i in ids if i is not None]).values_list(
            "pk", "name"
        )
    )


def _mark_bottleneck(figures: list[StageFigures]) -> None:
    converting = [f for f in figures if f.conversion is not None]
    if converting:
        worst = min(
            converting,
            key=lambda f: (f.conversion, -(f.over_expected or 0), f.rank),
        )
        worst.bottleneck = True
        worst.bottleneck_reason = _(
            "Only %(percent)s%% of the opportunities that reached %(stage)s went on to %(next)s."
        ) % {
            "percent": worst.conversion_percent,
            "stage": worst.stage.name,
            "next": worst.next_name,
        }
        return
    slow = [f for f in figures if (f.over_expected or 0) > 1]
    if slow:
        worst = max(slow, key=lambda f: (f.over_expected, -f.rank))
        worst.bottleneck = True
        worst.bottleneck_reason = _(
            "Its median stay (%(median)s days) is the furthest over its expected %(expected)s days."
        ) % {"median": worst.median_days, "expected": worst.expected_days}


# --- Drill-down ----------------------------------------------------------------------------------


def records(
    user: User,
    filters: Filters,
    measure: str,
    *,
    stage: Stage | None = None,
    reason: int | None = None,
) -> QuerySet[Opportunity]:
    """Exactly the opportunities behind a figure of ``funnel`` (or of ``customers_by_stage``
    for ``customers``). ``stage`` is required for entered, reached, days and customers;
    ``reason`` (a lost reason's id, 0 for none) narrows ``lost``."""
    if measure not in MEASURES:
        raise ValueError(measure)
    if measure in ("entered", "reached", "days", "customers") and stage is None:
        raise ValueError("stage")
    if measure == "entered":
        return opportunities(user, filters).filter(
            pk__in=StageVisit.objects.filter(
                stage=stage, entered_at__gte=filters.start, entered_at__lt=filters.end
            ).values("opportunity_id")
        )
    if measure == "customers":
        return opportunities(user, filters).filter(stage=stage, status=OpportunityStatus.OPEN)
    members = cohort(user, filters)
    if measure == "cohort":
        return members
    if measure == "won":
        return members.filter(status=OpportunityStatus.WON)
    if measure == "closed":
        return members.filter(status__in=(OpportunityStatus.WON, OpportunityStatus.LOST))
    if measure == "lost":
        lost = members.filter(status=OpportunityStatus.LOST)
        if reason is not None:
            lost = (
                lost.filter(lost_reason__isnull=True)
                if reason == 0
                else lost.filter(lost_reason_id=reason)
            )
        return lost
    assert stage is not None
    if measure == "reached":
        ladder = Ladder.of(filters.pipeline)
        later = ladder.at_or_after(ladder.rank_of(stage))
        return members.filter(
            Q(pk__in=StageVisit.objects.filter(stage_id__in=later).values("opportunity_id"))
            | Q(status=OpportunityStatus.WON)
        )
    # days
    return members.filter(
        pk__in=StageVisit.objects.filter(stage=stage, left_at__isnull=False).values(
            "opportunity_id"
        )
    )


# --- Customers by stage --------------------------------------------------------------------------


@dataclass
class RepRow:
    owner: Any
    counts: list[int]  # distinct customers per open stage, in the ladder's order
    total: int  # distinct customers over all open stages


@dataclass
class CustomersByStage:
    filters: Filters
    stages: list[Stage]
    rows: list[RepRow]
    totals: list[int]
    total: int


def customers_by_stage(user: User, filters: Filters) -> CustomersByStage:
    """Per owner and open stage, how many distinct customers have open opportunities there
    now (the period plays no part: this is today's picture). Three queries."""
    from tuoke.org.models import User as Person

    stages = Ladder.of(filters.pipeline).open
    open_ones = opportunities(user, filters).filter(status=OpportunityStatus.OPEN, stage__in=stages)
    cells = {
        (row["owner_id"], row["stage_id"]): row["n"]
        for row in open_ones.values("owner_id", "stage_id")
        .annotate(n=Count("customer_id", distinct=True))
        .order_by()
    }
    per_owner = dict(
        open_ones.values("owner_id")
        .annotate(n=Count("customer_id", distinct=True))
        .order_by()
        .values_list("owner_id", "n")
    )
    per_stage = dict(
        open_ones.values("stage_id")
        .annotate(n=Count("customer_id", distinct=True))
        .order_by()
        .values_list("stage_id", "n")
    )
    owners = Person.objects.filter(pk__in=list(per_owner)).select_related("unit")
    rows = [
        RepRow(
            owner=o,
            counts=[cells.get((o.pk, s.pk), 0) for s in stages],
            total=per_owner[o.pk],
        )
        for o in sorted(owners, key=lambda o: (o.unit.path if o.unit else "", o.username))
    ]
    return CustomersByStage(
        filters=filters,
        stages=stages,
        rows=rows,
        totals=[per_stage.get(s.pk, 0) for s in stages],
        total=open_ones.aggregate(n=Count("customer_id", distinct=True))["n"],
    )


# --- Close soon ----------------------------------------------------------------------------------


def close_soon(user: User, owner: User | None = None, limit: int = 20, *, now=None):
    """``owner``'s open opportunities (the user's own by default) ranked by the configured
    ranker (``tuoke.sales.ranking``): the first ``limit`` as (opportunity, score, reasons).
    The caller checks that ``owner`` is within the user's scope (``people_in_scope``)."""
    from . import ranking

    owner = owner or user
    candidates = (
        Opportunity.objects.visible_to(user)
        .filter(owner=owner, status=OpportunityStatus.OPEN)
        .select_related("stage", "customer", "pipeline", "owner")
    )
    return ranking.current().rank(list(candidates), now=now)[:limit]
