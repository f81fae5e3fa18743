"""The funnel figures and "close soon" ranking (parse → query → schema). The figures and what
they mean are those of the funnel page (``tuoke.sales.queries``); every opportunity is read
within the caller's data scope."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tuoke.core.api import ERRORS, PersonRef, RecordId, Ref, resolve
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.models import Action
from tuoke.core.scope import require

from . import queries, ranking
from .models import Opportunity, Pipeline

router = Router(tags=["Sales analytics"])


# --- Schemas ----------------------------------------------------------------------------------


class FunnelFilters(Schema):
    period: Literal["month", "quarter", "year", "custom"] = Field(
        "year", description="This month, quarter or year; `custom` takes `start` and `end`"
    )
    start: date | None = Field(None, description="First day (custom)", examples=["2026-01-01"])
    end: date | None = Field(
        None, description="Last day, included (custom)", examples=["2026-03-31"]
    )
    pipeline_id: RecordId | None = Field(None, description="Default: the default pipeline")
    owner_id: list[RecordId] = Field(
        default_factory=list, description="Only these owners (within your scope)"
    )
    unit_id: RecordId | None = Field(None, description="Only owners in this unit and below")


class FunnelStageOut(Schema):
    stage: Ref
    probability: int = Field(examples=[50])
    expected_days: int | None = Field(examples=[21])
    entered: int = Field(description="Opportunities whose stay in the stage began in the period")
    reached: int = Field(
        description="Opportunities of the cohort that reached the stage or a later one, or won"
    )
    next_stage: str = Field(examples=["商务谈判"])
    conversion: float | None = Field(
        description="reached(next) ÷ reached(this), 0 … 1", examples=[0.5]
    )
    stays: int = Field(description="Finished stays of the cohort measured for the days")
    median_days: float | None = Field(description="Nearest-rank median, in days", examples=[20])
    p80_days: float | None = Field(description="Nearest-rank 80th percentile", examples=[21])
    bottleneck: bool
    bottleneck_reason: str = Field(
        examples=["Only 50% of the opportunities that reached 方案报价 went on to 商务谈判."]
    )
    links: dict[str, str] = Field(
        description="Drill-down pages: entered, reached, days",
        examples=[{"entered": "/sales/funnel/records/?pipeline=1&measure=entered&stage=3"}],
    )


class FunnelLostReasonOut(Schema):
    reason: Ref | None = Field(description="None: lost without a reason")
    count: int
    link: str


class FunnelOut(Schema):
    """The funnel of a pipeline for a period: the cohort is the opportunities whose stage
    history starts in the period; see the funnel page's definitions."""

    pipeline: Ref
    start: date = Field(examples=["2026-01-01"])
    end: date = Field(description="Last day, included", examples=["2026-03-31"])
    cohort: int = Field(examples=[4])
    won: int = Field(examples=[1])
    lost: int = Field(examples=[2])
    open: int = Field(examples=[1])
    win_rate: float | None = Field(description="won ÷ (won + lost), 0 … 1", examples=[0.33])
    win_rate_of_cohort: float | None = Field(description="won ÷ cohort", examples=[0.25])
    entered_won: int = Field(description="Opportunities won in the period")
    entered_lost: int = Field(description="Opportunities lost in the period")
    stages: list[FunnelStageOut]
    lost_reasons: list[FunnelLostReasonOut]
    bottleneck: Ref | None = Field(description="The bottleneck stage, if any")
    links: dict[str, str] = Field(description="Drill-down pages: cohort, won, lost, closed")


class CloseSoonFilters(Schema):
    owner_id: RecordId | None = Field(None, description="A member of your team; default you")
    limit: int = Field(20, ge=1, le=100)


class CloseSoonItemOut(Schema):
    opportunity: Ref
    customer: Ref
    stage: Ref
    probability: int = Field(examples=[80])
    amount: Decimal | None = Field(examples=["500000.00"])
    currency: str = Field(examples=["CNY"])
    expected_close_date: date | None = Field(examples=["2026-11-28"])
    score: int = Field(description="0 … 100, higher closes sooner", examples=[64])
    reasons: list[str] = Field(
        examples=[["stage 商务谈判 80%", "active 2 days ago", "expected to close in 5 days"]]
    )


class CloseSoonOut(Schema):
    ranker: str = Field(description="The ranking in use", examples=["stage"])
    owner: PersonRef
    items: list[CloseSoonItemOut]


# --- Handlers ---------------------------------------------------------------------------------


def _filters(user, params: FunnelFilters) -> queries.Filters:
    pipeline = resolve(user, Pipeline, params.pipeline_id, "pipeline_id")
    if pipeline is None:
        pipeline = (
            Pipeline.objects.visible_to(user).order_by("-is_default", "sort_order", "pk").first()
        )
        if pipeline is None:
            raise field_error("pipeline_id", _("There is no pipeline yet."), ErrorCode.REQUIRED)
    if params.period == "custom":
        if params.start is None:
            raise field_error("start", _("Give the first day of the period."), ErrorCode.REQUIRED)
        if params.end is None:
            raise field_error("end", _("Give the last day of the period."), ErrorCode.REQUIRED)
        if params.start > params.end:
            raise field_error("end", _("The end comes before the start."), ErrorCode.INVALID)
        start, after = params.start, params.end + timedelta(days=1)
    else:
        start, after = queries.period_bounds(params.period, timezone.localdate())
    owners = set(params.owner_id)
    if owners and queries.people_in_scope(user).filter(pk__in=owners).count() != len(owners):
        raise field_error(
            "owner_id", _("This person is not within your scope."), ErrorCode.FORBIDDEN
        )
    unit = None
    if params.unit_id is not None:
        unit = queries.units_in_scope(user).filter(pk=params.unit_id).first()
        if unit is None:
            raise field_error(
                "unit_id", _("This unit is not within your scope."), ErrorCode.FORBIDDEN
            )
    return queries.Filters.of(
        pipeline=pipeline, start=start, end=after, owner_ids=sorted(owners), unit=unit
    )


def _ref(record: Any) -> dict[str, Any]:
    return {"id": record.pk, "name": str(record)}


@router.get("/sales/funnel", response={200: FunnelOut, **ERRORS})
def funnel(request: HttpRequest, params: Query[FunnelFilters]):
    """The funnel of a pipeline for a period as you may see it: how many opportunities
    entered each stage, how many of those created in the period reached it, conversion,
    median and 80th-percentile days per stage, win rate, lost reasons and the bottleneck.
    Each figure links to the web page listing exactly its opportunities."""
    user = request.user
    require(user, Opportunity.record_type, Action.VIEW)
    filters = _filters(user, params)
    result = queries.funnel(
        user,
        start=filters.start,
        end=filters.end,
        pipeline=filters.pipeline,
        owner_ids=filters.owner_ids,
        unit=filters.unit,
    )
    neck = result.bottleneck
    return {
        "pipeline": _ref(filters.pipeline),
        "start": timezone.localtime(filters.start).date(),
        "end": timezone.localtime(filters.end).date() - timedelta(days=1),
        "cohort": result.cohort,
        "won": result.won,
        "lost": result.lost,
        "open": result.open,
        "win_rate": result.win_rate,
        "win_rate_of_cohort": result.win_rate_of_cohort,
        "entered_won": result.entered_won,
        "entered_lost": result.entered_lost,
        "stages": [
            {
                "stage": _ref(row.stage),
                "probability": row.stage.probability,
                "expected_days": row.expected_days,
                "entered": row.entered,
                "reached": row.reached,
                "next_stage": row.next_name,
                "conversion": row.conversion,
                "stays": row.stays,
                "median_days": row.median_days,
                "p80_days": row.p80_days,
                "bottleneck": row.bottleneck,
                "bottleneck_reason": row.bottleneck_reason,
                "links": {
                    "entered": result.url("entered", row.stage),
                    "reached": result.url("reached", row.stage),
                    "days": result.url("days", row.stage),
                },
            }
            for row in result.stages
        ],
        "lost_reasons": [
            {
                "reason": {"id": r.reason_id, "name": r.name} if r.reason_id else None,
                "count": r.count,
                "link": result.url("lost", reason=r.reason_id or 0),
            }
            for r in result.lost_reasons
        ],
        "bottleneck": _ref(neck.stage) if neck else None,
        "links": {m: result.url(m) for m in ("cohort", "won", "lost", "closed")},
    }


@router.get("/sales/close-soon", response={200: CloseSoonOut, **ERRORS})
def close_soon(request: HttpRequest, params: Query[CloseSoonFilters]):
    """Your open opportunities (or a team member's) ranked by how soon they may close, with
    the reasons: stage probability × recency of activity × closeness of the expected date."""
    user = request.user
    require(user, Opportunity.record_type, Action.VIEW)
    owner = user
    if params.owner_id is not None and params.owner_id != user.pk:
        owner = queries.people_in_scope(user).filter(is_active=True, pk=params.owner_id).first()
        if owner is None:
            raise field_error(
                "owner_id", _("This person is not within your scope."), ErrorCode.FORBIDDEN
            )
    ranked = queries.close_soon(user, owner=owner, limit=params.limit)
    return {
        "ranker": ranking.current().key,
        "owner": {
            "id": owner.pk,
            "username": owner.username,
            "display_name": owner.display_name or str(owner),
        },
        "items": [
            {
                "opportunity": {"id": r.opportunity.pk, "name": r.opportunity.title},
                "customer": _ref(r.opportunity.customer),
                "stage": _ref(r.opportunity.stage),
                "probability": r.opportunity.stage.probability,
                "amount": r.opportunity.amount,
                "currency": r.opportunity.currency,
                "expected_close_date": r.opportunity.expected_close_date,
                "score": r.score,
                "reasons": r.reasons,
            }
            for r in ranked
        ],
    }
