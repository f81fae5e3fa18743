"""The API of pipelines, stages, lost reasons and products: everyone reads them (the forms of
opportunities need them), administrators change them (parse → tuoke.sales.config → schema).
Stages and lost reasons are read under their own record types and changed under the
"pipeline" grant, like their pipelines."""

from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tuoke.core.api import (
    ERRORS,
    WRITE_ERRORS,
    PagePagination,
    RecordId,
    Text,
    VersionedPatch,
    required,
    required_after_fetch,
    sent,
)
from tuoke.core.models import Action
from tuoke.core.scope import get_for, get_for_action, require

from . import config
from .models import LostReason, Pipeline, Product, Stage, StageKind

router = Router(tags=["Pipelines"])

# --- Schemas ----------------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    name: str = Field(examples=["方案报价"])
    kind: StageKind = Field(description="open, or the won / lost end stage")
    sort_order: int
    probability: int = Field(description="Win probability in %", examples=[50])
    expected_days: int | None = Field(
        description="Days an opportunity normally spends here; idle longer → a task",
        examples=[21],
    )
    required_fields: list[str] = Field(
        description='Fields an opportunity needs to enter: "amount", "expected_close_date", '
        '"contacts", "lines", "description" or "custom:<key>"',
        examples=[["amount", "expected_close_date"]],
    )
    marks_intent: bool = Field(description="Reaching it moves the customer to intent")
    active: bool = Field(description="False: archived, kept for the history")
    version: int


class PipelineOut(Schema):
    id: int
    name: str = Field(examples=["新客户销售"])
    description: str = Field(examples=["从初次接洽到签约"])
    sort_order: int
    active: bool
    is_default: bool = Field(description="New opportunities go here unless told otherwise")
    version: int
    stages: list[StageOut] = Field(description="Open stages in order, then won, then lost")

    @staticmethod
    def resolve_stages(pipeline: Pipeline) -> list[Stage]:
        return list(pipeline.stages.all())


class StageIn(Schema):
    name: Text = Field(min_length=1, max_length=50, examples=["方案报价"])
    kind: StageKind = Field(
        StageKind.OPEN,
        description="Only when creating a pipeline: its won and lost end stages "
        "(added with default names when left out)",
    )
    probability: int = Field(10, ge=0, le=100, examples=[50])
    expected_days: int | None = Field(None, ge=1, le=3650, examples=[21])
    required_fields: list[Text] = Field(default_factory=list, examples=[["amount"]])
    marks_intent: bool = False


class NewStageIn(Schema):
    """A stage added to a pipeline (an open one, after the others)."""

    name: Text | None = Field(None, max_length=50, examples=["技术交流"])
    probability: int = Field(10, ge=0, le=100, examples=[40])
    expected_days: int | None = Field(None, ge=1, le=3650, examples=[14])
    required_fields: list[Text] = Field(default_factory=list, examples=[["contacts"]])
    marks_intent: bool = False

    model_config = {"json_schema_extra": required_after_fetch("name")}


class PipelineIn(Schema):
    name: Text = Field(min_length=1, max_length=60, examples=["续约"])
    description: Text = Field("", max_length=300, examples=["老客户合同到期续约"])
    is_default: bool = False
    active: bool = True
    stages: list[StageIn] | None = Field(
        None,
        description="Without it the pipeline gets the usual stages",
        examples=[
            [
                {"name": "续约提醒", "probability": 20, "expected_days": 30},
                {"name": "续约报价", "probability": 60, "required_fields": ["amount"]},
                {"name": "续约成功", "kind": "won"},
                {"name": "未续约", "kind": "lost"},
            ]
        ],
    )


class PipelineUpdate(VersionedPatch):
    name: Text | None = Field(None, max_length=60, examples=["老客户续约"])
    description: Text | None = Field(None, max_length=300)
    sort_order: int | None = Field(None, ge=-(2**31), le=2**31 - 1)
    active: bool | None = None
    is_default: bool | None = Field(None, description="true makes it the default pipeline")


class StageUpdate(VersionedPatch):
    name: Text | None = Field(None, max_length=50, examples=["商务谈判"])
    probability: int | None = Field(None, ge=0, le=100, examples=[80])
    expected_days: int | None = Field(None, ge=1, le=3650, description="null: no limit")
    required_fields: list[Text] | None = Field(None, examples=[["amount", "custom:budget_owner"]])
    marks_intent: bool | None = None


class StageOrderIn(Schema):
    stage_ids: list[RecordId] | None = Field(
        None,
        description="Every active open stage of the pipeline once, in the new order",
        examples=[[12, 11, 13]],
    )

    model_config = {"json_schema_extra": required_after_fetch("stage_ids")}


class LostReasonOut(Schema):
    id: int
    name: str = Field(examples=["价格太高"])
    sort_order: int
    active: bool = Field(description="False: no longer offered; lost deals keep it")
    version: int


class LostReasonIn(Schema):
    name: Text = Field(min_length=1, max_length=60, examples=["选择了竞争对手"])
    active: bool = True


class LostReasonUpdate(VersionedPatch):
    name: Text | None = Field(None, max_length=60, examples=["预算取消"])
    sort_order: int | None = Field(None, ge=-(2**31), le=2**31 - 1)
    active: bool | None = None


class ProductOut(Schema):
    id: int
    code: str = Field(examples=["CK6140"])
    name: str = Field(examples=["数控车床"])
    unit: str = Field(examples=["台"])
    price: Decimal = Field(description="List price", examples=["128000.00"])
    currency: str = Field(examples=["CNY"])
    description: str
    active: bool
    version: int


class ProductIn(Schema):
    name: Text = Field(min_length=1, max_length=100, examples=["数控车床"])
    code: Text = Field("", max_length=40, description="Unique when given", examples=["CK6140"])
    unit: Text = Field("", max_length=20, examples=["台"])
    price: Decimal = Field(Decimal("0"), ge=0, examples=["128000.00"])
    currency: Text = Field("CNY", min_length=3, max_length=3, examples=["CNY"])
    description: Text = Field("", max_length=300)
    active: bool = True


class ProductUpdate(VersionedPatch):
    name: Text | None = Field(None, max_length=100)
    code: Text | None = Field(None, max_length=40)
    unit: Text | None = Field(None, max_length=20)
    price: Decimal | None = Field(None, ge=0, examples=["118000.00"])
    currency: Text | None = Field(None, min_length=3, max_length=3, examples=["USD"])
    description: Text | None = Field(None, max_length=300)
    active: bool | None = None


class ProductFilters(Schema):
    q: Text | None = Field(None, max_length=100, description="Part of the name or code")
    active: bool | None = None


# --- Helpers ----------------------------------------------------------------------------------


def _pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("sort_order", "pk"))
    )


def _stages() -> QuerySet[Stage]:
    # A deleted pipeline's stages are in the recycle bin with it.
    return Stage.objects.filter(pipeline__deleted_at__isnull=True).select_related("pipeline")


def _to_administer(request: HttpRequest, queryset: QuerySet, pk: int):
    """A stage or lost reason to change: 404 when out of the user's sight, 403 when he does
    not administer pipelines (their grant covers stages and lost reasons)."""
    record = get_for(request.user, queryset, pk)
    require(request.user, "pipeline", Action.ADMINISTER)
    return record


def _pipeline_for(request: HttpRequest, pk: int, action: str = Action.VIEW) -> Pipeline:
    if action == Action.VIEW:
        return get_for(request.user, _pipelines(), pk)
    return get_for_action(request.user, _pipelines(), pk, action)


# --- Pipelines and stages ---------------------------------------------------------------------


@router.get("/pipelines", response={200: list[PipelineOut], **ERRORS})
def list_pipelines(request: HttpRequest, active: bool | None = None):
    """Every pipeline with its stages (archived ones too, marked), in their order."""
    require(request.user, "pipeline", Action.VIEW)
    pipelines = _pipelines().visible_to(request.user)
    if active is not None:
        pipelines = pipelines.filter(active=active)
    return list(pipelines)


@router.post("/pipelines", response={201: PipelineOut, **WRITE_ERRORS})
def create_pipeline(request: HttpRequest, payload: PipelineIn):
    """A new pipeline (administrators). It always gets one won and one lost end stage."""
    require(request.user, "pipeline", Action.ADMINISTER)
    data = payload.model_dump()
    stages = data.pop("stages")
    pipeline = config.create_pipeline(by=request.user, stages=stages, **data)
    return Status(201, _pipeline_for(request, pipeline.pk))


@router.get("/pipelines/{pipeline_id}", response={200: PipelineOut, **ERRORS})
def read_pipeline(request: HttpRequest, pipeline_id: RecordId):
    return _pipeline_for(request, pipeline_id)


@router.patch("/pipelines/{pipeline_id}", response={200: PipelineOut, **WRITE_ERRORS})
def update_pipeline(request: HttpRequest, pipeline_id: RecordId, payload: PipelineUpdate):
    """Rename, describe, order, (de)activate a pipeline, or make it the default."""
    pipeline = _pipeline_for(request, pipeline_id, Action.ADMINISTER)
    config.update_pipeline(pipeline, by=request.user, version=payload.version, **sent(payload))
    return _pipeline_for(request, pipeline_id)


@router.delete("/pipelines/{pipeline_id}", response={204: None, **WRITE_ERRORS})
def delete_pipeline(request: HttpRequest, pipeline_id: RecordId):
    """Move the pipeline to the recycle bin; refused (400, code `in_use`) while open
    opportunities use it, and for the default pipeline."""
    pipeline = _pipeline_for(request, pipeline_id, Action.ADMINISTER)
    config.delete_pipeline(pipeline, by=request.user)
    return Status(204, None)


@router.post("/pipelines/{pipeline_id}/stages", response={201: StageOut, **WRITE_ERRORS})
def create_stage(request: HttpRequest, pipeline_id: RecordId, payload: NewStageIn):
    """Add an open stage after the pipeline's other open stages."""
    pipeline = _pipeline_for(request, pipeline_id, Action.ADMINISTER)
    required(payload.name, "name")
    return Status(201, config.create_stage(pipeline, by=request.user, **payload.model_dump()))


@router.post("/pipelines/{pipeline_id}/stages/order", response={200: PipelineOut, **WRITE_ERRORS})
def reorder_stages(request: HttpRequest, pipeline_id: RecordId, payload: StageOrderIn):
    """Put the open stages in a new order (the end stages stay last)."""
    pipeline = _pipeline_for(request, pipeline_id, Action.ADMINISTER)
    config.reorder_stages(pipeline, required(payload.stage_ids, "stage_ids"), by=request.user)
    return _pipeline_for(request, pipeline_id)


@router.get("/stages/{stage_id}", response={200: StageOut, **ERRORS})
def read_stage(request: HttpRequest, stage_id: RecordId):
    return get_for(request.user, _stages(), stage_id)


@router.patch("/stages/{stage_id}", response={200: StageOut, **WRITE_ERRORS})
def update_stage(request: HttpRequest, stage_id: RecordId, payload: StageUpdate):
    """Change a stage; the opportunities' stage history keeps the names and probabilities it
    was entered with."""
    stage = _to_administer(request, _stages(), stage_id)
    changes: dict[str, Any] = sent(payload, nullable={"expected_days"})
    return config.update_stage(stage, by=request.user, version=payload.version, **changes)


@router.delete("/stages/{stage_id}", response={204: None, **WRITE_ERRORS})
def archive_stage(request: HttpRequest, stage_id: RecordId):
    """Archive a stage (stages are never deleted: the history names them). Refused (400,
    code `in_use`) while open opportunities sit in it, and for end stages."""
    stage = _to_administer(request, _stages(), stage_id)
    config.archive_stage(stage, by=request.user)
    return Status(204, None)


# --- Lost reasons -----------------------------------------------------------------------------


@router.get("/lost-reasons", response={200: list[LostReasonOut], **ERRORS})
def list_lost_reasons(request: HttpRequest, include_inactive: bool = False):
    """The reasons a deal can be lost for, in their order; those no longer offered with
    `include_inactive=true`."""
    require(request.user, LostReason.record_type, Action.VIEW)
    reasons = LostReason.objects.visible_to(request.user)
    return list(reasons if include_inactive else reasons.filter(active=True))


@router.post("/lost-reasons", response={201: LostReasonOut, **WRITE_ERRORS})
def create_lost_reason(request: HttpRequest, payload: LostReasonIn):
    require(request.user, "pipeline", Action.ADMINISTER)
    return Status(201, config.create_lost_reason(by=request.user, **payload.model_dump()))


@router.get("/lost-reasons/{reason_id}", response={200: LostReasonOut, **ERRORS})
def read_lost_reason(request: HttpRequest, reason_id: RecordId):
    return get_for(request.user, LostReason, reason_id)


@router.patch("/lost-reasons/{reason_id}", response={200: LostReasonOut, **WRITE_ERRORS})
def update_lost_reason(request: HttpRequest, reason_id: RecordId, payload: LostReasonUpdate):
    reason = _to_administer(request, LostReason.objects.all(), reason_id)
    return config.update_lost_reason(
        reason, by=request.user, version=payload.version, **sent(payload)
    )


@router.delete("/lost-reasons/{reason_id}", response={204: None, **WRITE_ERRORS})
def delete_lost_reason(request: HttpRequest, reason_id: RecordId):
    """Move an unused reason to the recycle bin; one deals were lost for is refused (400,
    code `in_use`): deactivate it instead."""
    reason = _to_administer(request, LostReason.objects.all(), reason_id)
    config.delete_lost_reason(reason, by=request.user)
    return Status(204, None)


# --- Products ---------------------------------------------------------------------------------


@router.get("/products", response={200: list[ProductOut], **ERRORS}, tags=["Products"])
@paginate(PagePagination)
def list_products(request: HttpRequest, filters: Query[ProductFilters]):
    """The product catalogue by name; `q` searches names and codes."""
    require(request.user, "product", Action.VIEW)
    products = Product.objects.visible_to(request.user).order_by("name", "pk")
    if filters.q:
        products = products.filter(Q(name__icontains=filters.q) | Q(code__icontains=filters.q))
    if filters.active is not None:
        products = products.filter(active=filters.active)
    return products


@router.post("/products", response={201: ProductOut, **WRITE_ERRORS}, tags=["Products"])
def create_product(request: HttpRequest, payload: ProductIn):
    require(request.user, "product", Action.ADMINISTER)
    return Status(201, config.create_product(by=request.user, **payload.model_dump()))


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS}, tags=["Products"])
def read_product(request: HttpRequest, product_id: RecordId):
    return get_for(request.user, Product, product_id)


@router.patch(
    "/products/{product_id}", response={200: ProductOut, **WRITE_ERRORS}, tags=["Products"]
)
def update_product(request: HttpRequest, product_id: RecordId, payload: ProductUpdate):
    product = get_for_action(request.user, Product, product_id, Action.ADMINISTER)
    return config.update_product(product, by=request.user, version=payload.version, **sent(payload))


@router.delete("/products/{product_id}", response={204: None, **WRITE_ERRORS}, tags=["Products"])
def delete_product(request: HttpRequest, product_id: RecordId):
    """Move the product to the recycle bin; opportunity lines keep it."""
    product = get_for_action(request.user, Product, product_id, Action.ADMINISTER)
    config.delete_product(product, by=request.user)
    return Status(204, None)
