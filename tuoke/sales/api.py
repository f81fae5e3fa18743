"""The opportunities API: list, create, read, edit, delete, and the deal's moves through its
pipeline (move, win, lose, reopen) with its stage history (parse → service → schema).

Every opportunity is read within the caller's data scope (out of it: 404); the records a body
points at (customer, contacts, stage, products …) are looked up within his scope too, and one
he may not see is a 400 naming the field, never a hint that it exists. Writes go through
``tuoke.sales.services``."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tuoke.core import lists
from tuoke.core.api import (
    ERRORS,
    WRITE_ERRORS,
    PagePagination,
    PersonRef,
    RecordId,
    Ref,
    Text,
    VersionedPatch,
    custom_object,
    required,
    required_after_fetch,
    resolve,
    resolve_many,
    sent,
)
from tuoke.core.custom_fields import fields_for_request, visible_values
from tuoke.core.errors import fields_renamed
from tuoke.core.models import Action
from tuoke.core.scope import get_for, get_for_action, require
from tuoke.customers.models import Contact, Customer
from tuoke.leads.models import Channel, Lead
from tuoke.org.models import User

from . import services
from .models import (
    LostReason,
    Opportunity,
    OpportunityLine,
    OpportunityStatus,
    Pipeline,
    Product,
    Stage,
    StageKind,
    StageVisit,
)

router = Router(tags=["opportunities"])

# --- Schemas ----------------------------------------------------------------------------------


def _ref(record: Any) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"id": record.pk, "name": getattr(record, "display_name", None) or str(record)}


class StageRef(Schema):
    id: int
    name: str = Field(examples=["方案报价"])
    kind: StageKind
    probability: int = Field(description="Win probability in percent", examples=[50])


class LineOut(Schema):
    id: int
    product: Ref | None
    name: str = Field(examples=["五轴加工中心 VMC-850"])
    quantity: Decimal = Field(examples=["2.00"])
    unit_price: Decimal = Field(examples=["680000.00"])
    amount: Decimal = Field(description="quantity × unit price", examples=["1360000.00"])

    @staticmethod
    def resolve_product(line: OpportunityLine) -> dict[str, Any] | None:
        return _ref(line.product) if line.product_id else None


class OpportunityOut(Schema):
    id: int
    title: str = Field(examples=["腾达精密 2026 年五轴设备采购"])
    customer: Ref
    contacts: list[Ref] = Field(description="Contacts of the customer involved in the deal")
    amount: Decimal | None = Field(examples=["1360000.00"])
    currency: str = Field(examples=["CNY"])
    weighted_amount: Decimal | None = Field(
        description="amount × the stage's win probability", examples=["680000.00"]
    )
    expected_close_date: date | None = Field(examples=["2026-12-20"])
    owner: PersonRef
    team: list[PersonRef] = Field(description="Colleagues who work the deal with its owner")
    pipeline: Ref
    stage: StageRef
    status: OpportunityStatus
    stage_entered_at: datetime = Field(description="When it entered its current stage")
    last_activity_at: datetime | None = Field(description="Its last follow-up or stage move")
    closed_at: datetime | None
    lost_reason: Ref | None
    close_note: str = Field(examples=["客户选择了竞争对手的方案"])
    source_lead: Ref | None
    channel: Ref | None
    description: str
    lines: list[LineOut]
    custom: dict[str, Any] = Field(
        description="Custom field values by key", json_schema_extra=custom_object("opportunity")
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_customer(opp: Opportunity) -> dict[str, Any] | None:
        return _ref(opp.customer)

    @staticmethod
    def resolve_contacts(opp: Opportunity) -> list[dict[str, Any]]:
        return [{"id": c.pk, "name": c.name} for c in opp.contacts.all()]

    @staticmethod
    def resolve_pipeline(opp: Opportunity) -> dict[str, Any] | None:
        return _ref(opp.pipeline)

    @staticmethod
    def resolve_lost_reason(opp: Opportunity) -> dict[str, Any] | None:
        return _ref(opp.lost_reason) if opp.lost_reason_id else None

    @staticmethod
    def resolve_source_lead(opp: Opportunity) -> dict[str, Any] | None:
        return _ref(opp.source_lead) if opp.source_lead_id else None

    @staticmethod
    def resolve_channel(opp: Opportunity) -> dict[str, Any] | None:
        return _ref(opp.channel) if opp.channel_id else None

    @staticmethod
    def resolve_custom(opp: Opportunity, context: dict[str, Any] | None) -> dict[str, Any]:
        fields = fields_for_request((context or {}).get("request"), "opportunity")
        return visible_values("opportunity", opp.custom, fields=fields)


class OpportunityFilters(Schema):
    q: Text | None = Field(
        None, max_length=100, description="Part of the title or of the customer's name"
    )
    status: OpportunityStatus | None = None
    pipeline: RecordId | None = Field(None, description="Pipeline id")
    stage: RecordId | None = Field(None, description="Stage id")
    owner: RecordId | None = Field(None, description="Owner's user id")
    customer: RecordId | None = Field(None, description="Customer id")
    close_from: date | None = Field(None, description="Expected to close on or after this day")
    close_until: date | None = Field(None, description="Expected to close on or before this day")
    sort: Literal[
        "-updated_at",
        "updated_at",
        "-created_at",
        "created_at",
        "expected_close_date",
        "-expected_close_date",
        "amount",
        "-amount",
        "title",
        "-title",
        "stage_entered_at",
        "-stage_entered_at",
    ] = "-updated_at"


class LineIn(Schema):
    product_id: RecordId | None = Field(None, description="A product of the catalogue, or none")
    name: Text = Field(
        "", max_length=100, description="Default: the product's name", examples=["五轴加工中心"]
    )
    quantity: Decimal = Field(Decimal("1"), gt=0, max_digits=12, decimal_places=2, examples=["2"])
    unit_price: Decimal | None = Field(
        None,
        ge=0,
        max_digits=14,
        decimal_places=2,
        description="Default: the product's list price",
        examples=["680000.00"],
    )


class OpportunityFacts(Schema):
    title: Text = Field(min_length=1, max_length=200, examples=["腾达精密 2026 年五轴设备采购"])
    amount: Decimal | None = Field(
        None,
        ge=0,
        max_digits=16,
        decimal_places=2,
        description="Default: the sum of the lines when lines are given",
        examples=["1360000.00"],
    )
    currency: Text = Field("CNY", min_length=3, max_length=3)
    expected_close_date: date | None = Field(None, examples=["2026-12-20"])
    description: Text = Field("", max_length=5000)


class OpportunityCreate(OpportunityFacts):
    customer_id: RecordId = Field(examples=[12])
    owner_id: RecordId | None = Field(None, description="Default: the caller")
    pipeline_id: RecordId | None = Field(None, description="Default: the default pipeline")
    stage_id: RecordId | None = Field(
        None, description="An open stage of the pipeline; default: its first"
    )
    contact_ids: list[RecordId] = Field(
        default_factory=list, description="Contacts of the customer", examples=[[31]]
    )
    team_ids: list[RecordId] = Field(default_factory=list, description="Colleagues' user ids")
    lines: list[LineIn] = Field(default_factory=list)
    source_lead_id: RecordId | None = None
    channel_id: RecordId | None = None
    custom: dict[str, Any] = Field(
        default_factory=dict,
        description="Custom field values by key; required custom fields must be given",
        json_schema_extra=custom_object("opportunity", enforce_required=True),
    )


class OpportunityUpdate(VersionedPatch):
    title: Text | None = Field(None, min_length=1, max_length=200)
    customer_id: RecordId | None = None
    amount: Decimal | None = Field(
        None, ge=0, max_digits=16, decimal_places=2, description="null clears it"
    )
    currency: Text | None = Field(None, min_length=3, max_length=3)
    expected_close_date: date | None = Field(None, description="null clears it")
    description: Text | None = Field(None, max_length=5000)
    contact_ids: list[RecordId] | None = None
    team_ids: list[RecordId] | None = None
    lines: list[LineIn] | None = Field(None, description="Replaces all the lines")
    source_lead_id: RecordId | None = Field(None, description="null: none")
    channel_id: RecordId | None = Field(None, description="null: none")
    custom: dict[str, Any] | None = Field(
        None,
        description="Only the keys sent change; a key set to null clears it",
        json_schema_extra=custom_object("opportunity"),
    )


VersionCheck = Field(
    None, ge=0, le=2**31 - 1, description="Optional: the version you read (409 if it changed)"
)


class MoveIn(Schema):
    stage_id: RecordId | None = Field(None, description="An open stage of its pipeline")
    version: int | None = VersionCheck

    model_config = {"json_schema_extra": required_after_fetch("stage_id")}


class WinIn(Schema):
    note: Text = Field("", max_length=2000, examples=["签约 2 台，首付 30%"])
    version: int | None = VersionCheck


class LoseIn(Schema):
    reason_id: RecordId | None = Field(None, description="A lost reason's id", examples=[2])
    note: Text = Field("", max_length=2000, examples=["客户选择了竞争对手的方案"])
    version: int | None = VersionCheck

    model_config = {"json_schema_extra": required_after_fetch("reason_id")}


class ReopenIn(Schema):
    stage_id: RecordId | None = Field(None, description="The open stage it goes back to")

    model_config = {"json_schema_extra": required_after_fetch("stage_id")}


class OpportunityTransferIn(Schema):
    opportunity_ids: list[RecordId] = Field(min_length=1, max_length=1000, examples=[[12, 13]])
    to_user_id: RecordId = Field(examples=[7])
    reason: Text = Field(min_length=1, max_length=200, examples=["张伟调往华南，商机交接给刘洋"])


class OpportunityTransferOut(Schema):
    transferred: int = Field(description="Opportunities whose owner changed", examples=[2])


class StageVisitOut(Schema):
    stage: StageRef = Field(description="The stage as it is now")
    stage_name: str = Field(description="Its name when the deal entered it", examples=["需求确认"])
    probability: int = Field(description="Its win probability then", examples=[30])
    entered_at: datetime
    left_at: datetime | None = Field(description="Empty while the deal is there")
    days: float = Field(description="Days spent there (until now while it is)", examples=[12.5])
    expected_days: int | None = Field(description="The stage's expected days now")
    by: PersonRef | None = Field(description="Who moved it there")

    @staticmethod
    def resolve_days(visit: StageVisit) -> float:
        return round(visit.duration.total_seconds() / 86400, 1)

    @staticmethod
    def resolve_expected_days(visit: StageVisit) -> int | None:
        return visit.stage.expected_days


# --- Helpers ----------------------------------------------------------------------------------


SORTS = {
    "updated_at": "updated_at",
    "created_at": "created_at",
    "expected_close_date": "expected_close_date",
    "amount": "amount",
    "title": "title",
    "stage_entered_at": "stage_entered_at",
}

# A service's argument → the input it came from, for the errors' ``field`` (the service
# names a stage's required custom field ``custom.<key>`` already).
INPUT_NAMES = {
    "customer": "customer_id",
    "owner": "owner_id",
    "pipeline": "pipeline_id",
    "stage": "stage_id",
    "contacts": "contact_ids",
    "team": "team_ids",
    "source_lead": "source_lead_id",
    "channel": "channel_id",
    "reason": "reason_id",
    "lost_reason": "reason_id",
}
# On a move, win or lose the required fields are the deal's own (`amount`, `contacts` …).
MOVE_INPUT_NAMES = {"stage": "stage_id", "reason": "reason_id", "lost_reason": "reason_id"}


def _opportunities() -> QuerySet[Opportunity]:
    return Opportunity.objects.select_related(
        "customer", "owner", "pipeline", "stage", "lost_reason", "source_lead", "channel"
    ).prefetch_related(
        "contacts",
        "team",
        Prefetch("lines", queryset=OpportunityLine.objects.select_related("product")),
    )


def _lines(user: User, lines: list[dict[str, Any]]) -> list[dict]:
    """The lines for the service: each product looked up in the catalogue."""
    found = []
    for index, line in enumerate(lines):
        product = resolve(user, Product, line.get("product_id"), f"lines.{index}.product_id")
        found.append(
            {
                "product": product,
                "name": line.get("name") or "",
                "quantity": line.get("quantity"),
                "unit_price": line.get("unit_price"),
            }
        )
    return found


def _stage(user: User, pk: int | None, field: str = "stage_id") -> Stage | None:
    return resolve(user, Stage, pk, field)


def _pipeline(user: User, pk: int | None) -> Pipeline | None:
    return resolve(user, Pipeline, pk, "pipeline_id")


# --- Opportunities ----------------------------------------------------------------------------


@router.get("/opportunities", response={200: list[OpportunityOut], **ERRORS})
@paginate(PagePagination)
def list_opportunities(request: HttpRequest, filters: Query[OpportunityFilters]):
    """The opportunities within the caller's data scope (his own, his team's as a manager,
    and those whose team he is in); filters and one sort key."""
    opportunities = _opportunities().visible_to(request.user)
    if filters.q:
        q = filters.q.strip()
        opportunities = opportunities.filter(
            Q(title__icontains=q)
            | Q(customer__short_name__icontains=q)
            | Q(customer__legal_name__icontains=q)
        )
    if filters.status:
        opportunities = opportunities.filter(status=filters.status)
    if filters.pipeline is not None:
        opportunities = opportunities.filter(pipeline_id=filters.pipeline)
    if filters.stage is not None:
        opportunities = opportunities.filter(stage_id=filters.stage)
    if filters.owner is not None:
        opportunities = opportunities.filter(owner_id=filters.owner)
    if filters.customer is not None:
        opportunities = opportunities.filter(customer_id=filters.customer)
    if filters.close_from is not None:
        opportunities = opportunities.filter(expected_close_date__gte=filters.close_from)
    if filters.close_until is not None:
        opportunities = opportunities.filter(expected_close_date__lte=filters.close_until)
    _sort, order = lists.ordering(
        filters.sort, SORTS, default="-updated_at", nullable=("expected_close_date", "amount")
    )
    return opportunities.order_by(*order)


@router.post("/opportunities", response={201: OpportunityOut, **WRITE_ERRORS})
def create_opportunity(request: HttpRequest, payload: OpportunityCreate):
    """Open a deal with a customer: in the default pipeline's first stage unless a pipeline
    or stage is given. The stage's required fields must be filled (400 naming the field);
    `amount` defaults to the sum of the lines."""
    user = request.user
    require(user, Opportunity.record_type, Action.CREATE)
    data = payload.model_dump()
    customer = resolve(user, Customer, data.pop("customer_id"), "customer_id")
    facts = {name: data[name] for name in OpportunityFacts.model_fields}
    with fields_renamed(INPUT_NAMES):
        opportunity = services.create_opportunity(
            by=user,
            customer=customer,
            owner=resolve(user, User, data["owner_id"], "owner_id"),
            pipeline=_pipeline(user, data["pipeline_id"]),
            stage=_stage(user, data["stage_id"]),
            contacts=resolve_many(user, Contact, data["contact_ids"], "contact_ids"),
            team=resolve_many(user, User, data["team_ids"], "team_ids"),
            lines=_lines(user, data["lines"]),
            source_lead=resolve(user, Lead, data["source_lead_id"], "source_lead_id"),
            channel=resolve(user, Channel, data["channel_id"], "channel_id"),
            custom=data["custom"],
            **facts,
        )
    return Status(201, get_for(user, _opportunities(), opportunity.pk))


@router.post("/opportunities/transfer", response={200: OpportunityTransferOut, **WRITE_ERRORS})
def transfer_opportunities(request: HttpRequest, payload: OpportunityTransferIn):
    """Hand opportunities over to another user with a reason (a manager's action: `approve`
    on opportunities). All or nothing: one out of the caller's sight is 404, one he sees but
    may not hand out 403, and then none changes owner. Each move is audited."""
    user = request.user
    wanted = set(payload.opportunity_ids)
    found = list(Opportunity.objects.visible_to(user, Action.APPROVE).filter(pk__in=wanted))
    missing = wanted - {opp.pk for opp in found}
    if missing:
        get_for_action(user, Opportunity, min(missing), Action.APPROVE)
    to = resolve(user, User, payload.to_user_id, "to_user_id")
    with fields_renamed({**INPUT_NAMES, "to": "to_user_id"}):
        moved = services.transfer_opportunities(found, to=to, reason=payload.reason, by=user)
    return {"transferred": moved}


@router.get("/opportunities/{opportunity_id}", response={200: OpportunityOut, **ERRORS})
def get_opportunity(request: HttpRequest, opportunity_id: RecordId):
    return get_for(request.user, _opportunities(), opportunity_id)


@router.patch("/opportunities/{opportunity_id}", response={200: OpportunityOut, **WRITE_ERRORS})
def update_opportunity(request: HttpRequest, opportunity_id: RecordId, payload: OpportunityUpdate):
    """Change the facts sent (not the stage: see move, win, lose); `version` must be the one
    you read (409 otherwise). `lines` replaces every line."""
    user = request.user
    opportunity = get_for_action(user, _opportunities(), opportunity_id, Action.EDIT)
    changes = sent(
        payload,
        nullable={"amount", "expected_close_date", "source_lead_id", "channel_id", "custom"},
    )
    if "customer_id" in changes:
        changes["customer"] = resolve(user, Customer, changes.pop("customer_id"), "customer_id")
    if "contact_ids" in changes:
        changes["contacts"] = resolve_many(user, Contact, changes.pop("contact_ids"), "contact_ids")
    if "team_ids" in changes:
        changes["team"] = resolve_many(user, User, changes.pop("team_ids"), "team_ids")
    if "lines" in changes:
        changes["lines"] = _lines(user, changes["lines"])
    if "source_lead_id" in changes:
        changes["source_lead"] = resolve(
            user, Lead, changes.pop("source_lead_id"), "source_lead_id"
        )
    if "channel_id" in changes:
        changes["channel"] = resolve(user, Channel, changes.pop("channel_id"), "channel_id")
    with fields_renamed(INPUT_NAMES):
        services.update_opportunity(opportunity, by=user, version=payload.version, **changes)
    return get_for(user, _opportunities(), opportunity_id)


@router.delete("/opportunities/{opportunity_id}", response={204: None, **WRITE_ERRORS})
def delete_opportunity(request: HttpRequest, opportunity_id: RecordId):
    """Move the opportunity to the recycle bin (restorable there)."""
    opportunity = get_for_action(request.user, Opportunity, opportunity_id, Action.DELETE)
    services.delete_opportunity(opportunity, by=request.user)
    return Status(204, None)


@router.post("/opportunities/{opportunity_id}/move", response={200: OpportunityOut, **WRITE_ERRORS})
def move_opportunity(request: HttpRequest, opportunity_id: RecordId, payload: MoveIn):
    """Move an open deal to another open stage of its pipeline (won and lost go through
    win and lose). A stage's required fields must be filled first: 400 naming the missing
    field (`amount`, `expected_close_date`, `contacts`, `lines`, `description`,
    `custom.<key>`) with a message naming the stage. The history records the move."""
    user = request.user
    opportunity = get_for_action(user, _opportunities(), opportunity_id, Action.EDIT)
    stage = _stage(user, required(payload.stage_id, "stage_id"))
    with fields_renamed(MOVE_INPUT_NAMES):
        services.move_stage(opportunity, stage, by=user, version=payload.version)
    return get_for(user, _opportunities(), opportunity_id)


@router.post("/opportunities/{opportunity_id}/win", response={200: OpportunityOut, **WRITE_ERRORS})
def win_opportunity(request: HttpRequest, opportunity_id: RecordId, payload: WinIn):
    """Close an open deal as won (its pipeline's won stage), with an optional note."""
    user = request.user
    opportunity = get_for_action(user, _opportunities(), opportunity_id, Action.EDIT)
    with fields_renamed(MOVE_INPUT_NAMES):
        services.win(opportunity, by=user, note=payload.note, version=payload.version)
    return get_for(user, _opportunities(), opportunity_id)


@router.post("/opportunities/{opportunity_id}/lose", response={200: OpportunityOut, **WRITE_ERRORS})
def lose_opportunity(request: HttpRequest, opportunity_id: RecordId, payload: LoseIn):
    """Close an open deal as lost, with a reason from the lost reasons (`reason_id`,
    required) and an optional note."""
    user = request.user
    opportunity = get_for_action(user, _opportunities(), opportunity_id, Action.EDIT)
    reason = resolve(user, LostReason, required(payload.reason_id, "reason_id"), "reason_id")
    with fields_renamed(MOVE_INPUT_NAMES):
        services.lose(
            opportunity, by=user, reason=reason, note=payload.note, version=payload.version
        )
    return get_for(user, _opportunities(), opportunity_id)


@router.post(
    "/opportunities/{opportunity_id}/reopen", response={200: OpportunityOut, **WRITE_ERRORS}
)
def reopen_opportunity(request: HttpRequest, opportunity_id: RecordId, payload: ReopenIn):
    """A manager's correction: put a won or lost deal back into an open stage (needs
    `approve` on opportunities, else 403)."""
    user = request.user
    opportunity = get_for_action(user, _opportunities(), opportunity_id, Action.APPROVE)
    stage = _stage(user, required(payload.stage_id, "stage_id"))
    with fields_renamed(MOVE_INPUT_NAMES):
        services.reopen(opportunity, stage=stage, by=user)
    return get_for(user, _opportunities(), opportunity_id)


@router.get(
    "/opportunities/{opportunity_id}/history", response={200: list[StageVisitOut], **ERRORS}
)
def opportunity_history(request: HttpRequest, opportunity_id: RecordId):
    """The stages the deal went through, oldest first, with the days spent in each (the
    current one until now); names and probabilities as they were when it entered."""
    opportunity = get_for(request.user, Opportunity, opportunity_id)
    return list(
        StageVisit.objects.filter(opportunity=opportunity)
        .select_related("stage", "by")
        .order_by("entered_at", "pk")
    )
