"""Every write on the sales configuration an administrator edits: pipelines and their stages,
lost reasons and the product catalogue (one transaction each, audited).

What must hold: each pipeline keeps one won and one lost end stage and at least one active
open stage; one pipeline is the default; stages are archived, never deleted, and not while
open opportunities sit in them; a pipeline open opportunities use stays; a lost reason that
was used is deactivated rather than deleted. The history of opportunities keeps each stage's
name and probability as they were (``StageVisit``), so renaming a stage never rewrites it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from tuoke.core import services as core_services
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.models import Action, CustomField
from tuoke.core.scope import require

from .models import (
    REQUIRABLE_FIELDS,
    LostReason,
    Opportunity,
    OpportunityStatus,
    Pipeline,
    Product,
    Stage,
    StageKind,
)

if TYPE_CHECKING:
    from tuoke.org.models import User


class ConfigError(StrEnum):
    """Error codes of the sales configuration, beside the common ``ErrorCode``."""

    END_STAGES = "end_stages"
    LAST_OPEN_STAGE = "last_open_stage"
    END_STAGE = "end_stage"
    DEFAULT_PIPELINE = "default_pipeline"


def _error(field: str, message, code: ConfigError | ErrorCode) -> ValidationError:
    return field_error(field, message, cast(ErrorCode, code))


# What a new pipeline starts with when no stages are given: the usual B2B steps, named in the
# company's language as the rest of its data (administrators rename them afterwards).
DEFAULT_STAGES: tuple[dict[str, Any], ...] = (
    {"name": "初步接洽", "probability": 10, "expected_days": 14},
    {"name": "需求确认", "probability": 30, "expected_days": 21, "marks_intent": True},
    {"name": "方案报价", "probability": 50, "expected_days": 21, "required_fields": ["amount"]},
    {
        "name": "商务谈判",
        "probability": 80,
        "expected_days": 14,
        "required_fields": ["amount", "expected_close_date"],
    },
    {"name": "赢单", "kind": StageKind.WON, "probability": 100},
    {"name": "输单", "kind": StageKind.LOST, "probability": 0},
)
END_PROBABILITY = {StageKind.WON: 100, StageKind.LOST: 0}
CUSTOM_PREFIX = "custom:"
CURRENCY = re.compile(r"^[A-Z]{3}\Z")
STEP = 10


def _check_administer(by: User | None, record_type: str = "pipeline") -> None:
    if by is not None:
        require(by, record_type, Action.ADMINISTER)


def _text(value: Any, field: str, limit: int, *, required: bool = False, message=None) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise _error(field, message or _("This field is required."), ErrorCode.REQUIRED)
    if len(text) > limit:
        raise _error(
            field,
            _("Ensure this value has at most %(max)s characters.") % {"max": limit},
            ErrorCode.INVALID,
        )
    return text


def _bool(value: Any) -> bool:
    return bool(value)


# --- Reads the pages and other parts use -----------------------------------------------------


def open_opportunities(**where: Any) -> models.QuerySet[Opportunity]:
    """Living open opportunities matching ``where`` (what blocks archiving and deleting)."""
    return Opportunity.objects.filter(status=OpportunityStatus.OPEN, **where)


def requirable_choices(*, keep: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(key, label) of every field a stage may require: the standard ones, then the
    opportunity's custom fields as "custom:<key>"; ``keep`` (what a stage requires now) stays
    choosable even if its custom field was removed since."""
    choices = [(key, str(label)) for key, label in REQUIRABLE_FIELDS.items()]
    for field in CustomField.objects.filter(target=Opportunity.custom_fields_target).order_by(
        "sort_order", "label", "pk"
    ):
        choices.append((f"{CUSTOM_PREFIX}{field.key}", field.label))
    known = {key for key, _label in choices}
    choices += [(key, key) for key in keep if key not in known]
    return choices


def required_labels(keys: Iterable[str], labels: dict[str, str] | None = None) -> list[str]:
    """The labels of a stage's required fields, for the pages; ``labels`` (from
    ``requirable_choices``) saves reading the custom fields again for each stage."""
    labels = labels if labels is not None else dict(requirable_choices())
    return [labels.get(key, key) for key in keys]


def active_stages(pipeline: Pipeline) -> models.QuerySet[Stage]:
    return pipeline.stages.filter(active=True).order_by("sort_order", "pk")


# --- Validation of facts ---------------------------------------------------------------------


def _probability(value: Any) -> int:
    try:
        number = int(value)
        exact = Decimal(str(value)) == number
    except (TypeError, ValueError, InvalidOperation):
        exact = False
    if not exact or not 0 <= number <= 100:
        raise _error(
            "probability",
            _("The win probability is a whole number from 0 to 100."),
            ErrorCode.INVALID,
        )
    return number


def _expected_days(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
        exact = Decimal(str(value)) == number
    except (TypeError, ValueError, InvalidOperation):
        exact = False
    if not exact or number < 1 or number > 3650:
        raise _error(
            "expected_days",
            _("Expected days are a whole number of at least 1 (or empty)."),
            ErrorCode.INVALID,
        )
    return number


def _required_fields(value: Any, *, keep: Iterable[str] = ()) -> list[str]:
    """The keys checked against what may be required; those a stage has already stay."""
    if value in (None, ""):
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise _error("required_fields", _("Give a list of fields."), ErrorCode.INVALID)
    allowed = {key for key, _label in requirable_choices()} | set(keep)
    cleaned: list[str] = []
    for key in value:
        key = str(key).strip()
        if key not in allowed:
            raise _error(
                "required_fields",
                _("“%(key)s” is not a field a stage can require.") % {"key": key},
                ErrorCode.INVALID,
            )
        if key not in cleaned:
            cleaned.append(key)
    return cleaned


def _stage_name(pipeline: Pipeline | None, name: Any, *, exclude: Stage | None = None) -> str:
    name = _text(name, "name", 50, required=True, message=_("Give the stage a name."))
    if pipeline is not None and pipeline.pk is not None:
        others = pipeline.stages.filter(active=True).exclude(pk=getattr(exclude, "pk", None))
        if any(s.name.casefold() == name.casefold() for s in others):
            raise _error(
                "name",
                _("This pipeline has a stage named “%(name)s” already.") % {"name": name},
                ErrorCode.DUPLICATE,
            )
    return name


def _pipeline_name(name: Any, *, exclude: Pipeline | None = None) -> str:
    name = _text(name, "name", 60, required=True, message=_("Give the pipeline a name."))
    others = Pipeline.objects.exclude(pk=getattr(exclude, "pk", None))
    if any(p.name.casefold() == name.casefold() for p in others):
        raise _error(
            "name",
            _("A pipeline named “%(name)s” exists already.") % {"name": name},
            ErrorCode.DUPLICATE,
        )
    return name


STAGE_FACTS = ("name", "probability", "expected_days", "required_fields", "marks_intent")


def _stage_facts(
    facts: dict[str, Any], *, pipeline: Pipeline | None, stage: Stage | None = None
) -> dict[str, Any]:
    unknown = set(facts) - set(STAGE_FACTS) - {"kind"}
    if unknown:
        name = sorted(unknown)[0]
        raise _error(name, _("This field is not known."), ErrorCode.INVALID)
    cleaned: dict[str, Any] = {}
    if "name" in facts:
        cleaned["name"] = _stage_name(pipeline, facts["name"], exclude=stage)
    if "probability" in facts:
        cleaned["probability"] = _probability(facts["probability"])
    if "expected_days" in facts:
        cleaned["expected_days"] = _expected_days(facts["expected_days"])
    if "required_fields" in facts:
        keep = stage.required_fields if stage is not None else ()
        cleaned["required_fields"] = _required_fields(facts["required_fields"], keep=keep)
    if "marks_intent" in facts:
        cleaned["marks_intent"] = _bool(facts["marks_intent"])
    return cleaned


# --- Pipelines ---------------------------------------------------------------------------------


def _next_pipeline_order() -> int:
    last = Pipeline.objects.aggregate(m=models.Max("sort_order"))["m"]
    return (last or 0) + STEP


def _planned_stages(stages: list[dict] | None) -> list[dict[str, Any]]:
    """The stages a new pipeline gets, checked: open ones in order, then won, then lost."""
    given = [dict(s) for s in (stages if stages is not None else DEFAULT_STAGES)]
    planned: dict[str, list[dict[str, Any]]] = {kind: [] for kind in StageKind.values}
    names: set[str] = set()
    for index, facts in enumerate(given):
        kind = str(facts.pop("kind", StageKind.OPEN) or StageKind.OPEN)
        if kind not in StageKind.values:
            raise _error(f"stages.{index}.kind", _("Unknown kind of stage."), ErrorCode.INVALID)
        if kind != StageKind.OPEN:
            facts.setdefault("probability", END_PROBABILITY[StageKind(kind)])
        try:
            cleaned = _stage_facts(facts, pipeline=None)
            if "name" not in cleaned:
                _stage_name(None, "")
        except ValidationError as exc:
            raise ValidationError(
                {f"stages.{index}.{field}": errors for field, errors in exc.error_dict.items()}
            ) from exc
        if cleaned["name"].casefold() in names:
            raise _error(
                f"stages.{index}.name",
                _("This pipeline has a stage named “%(name)s” already.")
                % {"name": cleaned["name"]},
                ErrorCode.DUPLICATE,
            )
        names.add(cleaned["name"].casefold())
        if kind != StageKind.OPEN:
            cleaned["probability"] = END_PROBABILITY[StageKind(kind)]
            cleaned["marks_intent"] = False
        planned[kind].append({**cleaned, "kind": kind})
    for kind in (StageKind.WON, StageKind.LOST):
        if len(planned[kind]) > 1:
            raise _error(
                "stages",
                _("A pipeline has exactly one won and one lost end stage."),
                ConfigError.END_STAGES,
            )
        if not planned[kind]:
            default = next(dict(s) for s in DEFAULT_STAGES if s.get("kind") == kind)
            if default["name"].casefold() in names:
                default["name"] = str(StageKind(kind).label)
            planned[kind].append(default)
    if not planned[StageKind.OPEN]:
        raise _error(
            "stages", _("A pipeline needs at least one open stage."), ConfigError.LAST_OPEN_STAGE
        )
    return [*planned[StageKind.OPEN], *planned[StageKind.WON], *planned[StageKind.LOST]]


def _unset_other_defaults(pipeline: Pipeline, *, by: User | None) -> None:
    for other in Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk):
        core_services.update_record(other, by=by, is_default=False)


@transaction.atomic
def create_pipeline(
    *,
    name: str,
    by: User | None,
    description: str = "",
    stages: list[dict] | None = None,
    is_default: bool = False,
    active: bool = True,
) -> Pipeline:
    """A new pipeline with its stages (the usual ones when none are given); it always gets one
    won and one lost end stage. The first pipeline, or one marked default, becomes the
    default (the old default no longer is)."""
    _check_administer(by)
    name = _pipeline_name(name)
    description = _text(description, "description", 300)
    planned = _planned_stages(stages)
    make_default = bool(is_default) or not Pipeline.objects.filter(is_default=True).exists()
    if make_default and not active:
        raise _error(
            "active",
            _("The default pipeline must be active."),
            ConfigError.DEFAULT_PIPELINE,
        )
    pipeline = core_services.create_record(
        Pipeline,
        by=by,
        name=name,
        description=description,
        sort_order=_next_pipeline_order(),
        active=bool(active),
        is_default=make_default,
    )
    if make_default:
        _unset_other_defaults(pipeline, by=by)
    for position, facts in enumerate(planned):
        core_services.create_record(
            Stage, by=by, pipeline=pipeline, sort_order=(position + 1) * STEP, **facts
        )
    return pipeline


PIPELINE_FACTS = ("name", "description", "sort_order", "active", "is_default")


@transaction.atomic
def update_pipeline(
    pipeline: Pipeline, *, by: User | None, version: int | None = None, **facts: Any
) -> Pipeline:
    """Rename, describe, order, (de)activate a pipeline or make it the default (the old
    default no longer is). The default pipeline stays active: make another one the default
    first."""
    _check_administer(by)
    unknown = set(facts) - set(PIPELINE_FACTS)
    if unknown:
        raise _error(sorted(unknown)[0], _("This field is not known."), ErrorCode.INVALID)
    changes: dict[str, Any] = {}
    if "name" in facts:
        changes["name"] = _pipeline_name(facts["name"], exclude=pipeline)
    if "description" in facts:
        changes["description"] = _text(facts["description"], "description", 300)
    if "sort_order" in facts:
        try:
            changes["sort_order"] = int(facts["sort_order"])
        except (TypeError, ValueError):
            raise _error("sort_order", _("Enter a whole number."), ErrorCode.INVALID) from None
    active = bool(facts.get("active", pipeline.active))
    is_default = bool(facts.get("is_default", pipeline.is_default))
    if pipeline.is_default and not is_default:
        raise _error(
            "is_default",
            _("There is always a default pipeline: make another pipeline the default instead."),
            ConfigError.DEFAULT_PIPELINE,
        )
    if is_default and not active:
        raise _error(
            "active",
            _("The default pipeline must be active."),
            ConfigError.DEFAULT_PIPELINE,
        )
    changes["active"], changes["is_default"] = active, is_default
    becomes_default = is_default and not pipeline.is_default
    core_services.update_record(pipeline, by=by, expected_version=version, **changes)
    if becomes_default:
        _unset_other_defaults(pipeline, by=by)
    return pipeline


@transaction.atomic
def delete_pipeline(pipeline: Pipeline, *, by: User | None) -> None:
    """Move a pipeline to the recycle bin; refused while open opportunities use it or while it
    is the default. Closed opportunities keep pointing at it."""
    _check_administer(by)
    in_use = open_opportunities(pipeline=pipeline).count()
    if in_use:
        raise _error(
            "pipeline",
            _(
                "%(count)s open opportunities use this pipeline: win, lose or move them to "
                "another pipeline first."
            )
            % {"count": in_use},
            ErrorCode.IN_USE,
        )
    if pipeline.is_default:
        raise _error(
            "is_default",
            _("The default pipeline cannot be deleted: make another pipeline the default first."),
            ConfigError.DEFAULT_PIPELINE,
        )
    core_services.soft_delete(pipeline, by=by)


@transaction.atomic
def restore_pipeline(pipeline: Pipeline, *, by: User | None) -> None:
    """Bring a deleted pipeline back (with its stages); its name must still be free."""
    _check_administer(by)
    _pipeline_name(pipeline.name, exclude=pipeline)
    core_services.restore(pipeline, by=by)


# --- Stages ------------------------------------------------------------------------------------


def _renumber(pipeline: Pipeline, open_order: list[Stage], *, by: User | None) -> None:
    """Open stages in ``open_order`` (active ones), the archived open ones after them, then
    the won and the lost stage."""
    stages = list(pipeline.stages.order_by("sort_order", "pk"))
    given = {s.pk for s in open_order}
    archived = [s for s in stages if s.kind == StageKind.OPEN and s.pk not in given]
    won = [s for s in stages if s.kind == StageKind.WON]
    lost = [s for s in stages if s.kind == StageKind.LOST]
    for position, stage in enumerate([*open_order, *archived, *won, *lost]):
        wanted = (position + 1) * STEP
        if stage.sort_order != wanted:
            core_services.update_record(stage, by=by, sort_order=wanted)


@transaction.atomic
def create_stage(pipeline: Pipeline, *, by: User | None, **facts: Any) -> Stage:
    """A new open stage, after the pipeline's other open stages (end stages come with the
    pipeline and are never added)."""
    _check_administer(by)
    kind = facts.pop("kind", StageKind.OPEN)
    if kind != StageKind.OPEN:
        raise _error(
            "kind",
            _("A pipeline has exactly one won and one lost end stage."),
            ConfigError.END_STAGES,
        )
    cleaned = _stage_facts(facts, pipeline=pipeline)
    if "name" not in cleaned:
        _stage_name(pipeline, "")
    stage = core_services.create_record(
        Stage, by=by, pipeline=pipeline, kind=StageKind.OPEN, sort_order=0, **cleaned
    )
    open_order = [*active_stages(pipeline).filter(kind=StageKind.OPEN).exclude(pk=stage.pk)]
    _renumber(pipeline, [*open_order, stage], by=by)
    stage.refresh_from_db()
    return stage


@transaction.atomic
def update_stage(stage: Stage, *, by: User | None, version: int | None = None, **facts) -> Stage:
    """Change a stage's name, probability, expected days, required fields or whether it
    marks intent. The stage history keeps the names and probabilities it was entered with.
    End stages keep their probability (won 100, lost 0) and never mark intent."""
    _check_administer(by)
    if "kind" in facts and facts.pop("kind") != stage.kind:
        raise _error("kind", _("A stage's kind cannot change."), ErrorCode.INVALID)
    cleaned = _stage_facts(facts, pipeline=stage.pipeline, stage=stage)
    if stage.is_closed:
        for name in ("probability", "marks_intent"):
            fixed = END_PROBABILITY[StageKind(stage.kind)] if name == "probability" else False
            if name in cleaned and cleaned[name] != fixed:
                raise _error(
                    name,
                    _("The won and lost stages keep their probability and never mark intent."),
                    ConfigError.END_STAGE,
                )
    return core_services.update_record(stage, by=by, expected_version=version, **cleaned)


@transaction.atomic
def reorder_stages(pipeline: Pipeline, stage_ids: list[int], *, by: User | None) -> None:
    """Put the pipeline's active open stages in this order (every one of them, once)."""
    _check_administer(by)
    current = list(active_stages(pipeline).filter(kind=StageKind.OPEN))
    by_id = {s.pk: s for s in current}
    try:
        ids = [int(i) for i in stage_ids]
    except (TypeError, ValueError):
        ids = []
    if sorted(ids) != sorted(by_id) or len(set(ids)) != len(ids):
        raise _error(
            "stage_ids",
            _("Give every open stage of the pipeline once, in the new order."),
            ErrorCode.INVALID,
        )
    _renumber(pipeline, [by_id[i] for i in ids], by=by)


@transaction.atomic
def shift_stage(stage: Stage, *, by: User | None, step: int) -> None:
    """Move an open stage one place up (step -1) or down (+1) among the active open ones."""
    _check_administer(by)
    stages = list(active_stages(stage.pipeline).filter(kind=StageKind.OPEN))
    at = next((i for i, s in enumerate(stages) if s.pk == stage.pk), None)
    if at is None:
        raise _error("stage", _("Only active open stages are ordered."), ErrorCode.INVALID)
    to = min(max(at + step, 0), len(stages) - 1)
    stages.insert(to, stages.pop(at))
    _renumber(stage.pipeline, stages, by=by)


@transaction.atomic
def archive_stage(stage: Stage, *, by: User | None) -> Stage:
    """Offer a stage no more. Its history stays (stages are never deleted); refused while
    open opportunities sit in it, for an end stage and for the last open stage."""
    _check_administer(by)
    if not stage.active:
        return stage
    if stage.is_closed:
        raise _error(
            "stage",
            _("The won and lost stages end every pipeline and cannot be archived."),
            ConfigError.END_STAGE,
        )
    in_use = open_opportunities(stage=stage).count()
    if in_use:
        raise _error(
            "stage",
            _(
                "%(count)s open opportunities are in stage “%(name)s”: move them to another "
                "stage first."
            )
            % {"count": in_use, "name": stage.name},
            ErrorCode.IN_USE,
        )
    if not active_stages(stage.pipeline).filter(kind=StageKind.OPEN).exclude(pk=stage.pk).exists():
        raise _error(
            "stage", _("A pipeline needs at least one open stage."), ConfigError.LAST_OPEN_STAGE
        )
    return core_services.update_record(stage, by=by, active=False)


@transaction.atomic
def unarchive_stage(stage: Stage, *, by: User | None) -> Stage:
    """Offer an archived stage again, last among the open stages; its name must be free."""
    _check_administer(by)
    if stage.active:
        return stage
    _stage_name(stage.pipeline, stage.name, exclude=stage)
    core_services.update_record(stage, by=by, active=True)
    open_order = [*active_stages(stage.pipeline).filter(kind=StageKind.OPEN).exclude(pk=stage.pk)]
    _renumber(stage.pipeline, [*open_order, stage], by=by)
    stage.refresh_from_db()
    return stage


# --- Lost reasons ------------------------------------------------------------------------------


def _reason_name(name: Any, *, exclude: LostReason | None = None) -> str:
    name = _text(name, "name", 60, required=True, message=_("Give the reason a name."))
    others = LostReason.objects.exclude(pk=getattr(exclude, "pk", None))
    if any(r.name.casefold() == name.casefold() for r in others):
        raise _error(
            "name",
            _("A lost reason “%(name)s” exists already.") % {"name": name},
            ErrorCode.DUPLICATE,
        )
    return name


def reason_in_use(reason: LostReason) -> bool:
    """Whether an opportunity (even one in the recycle bin) was lost for this reason."""
    return Opportunity.all_objects.filter(lost_reason=reason).exists()


@transaction.atomic
def create_lost_reason(*, by: User | None, name: str, active: bool = True) -> LostReason:
    """A new reason, last in the list."""
    _check_administer(by)
    name = _reason_name(name)
    last = LostReason.objects.aggregate(m=models.Max("sort_order"))["m"] or 0
    return core_services.create_record(
        LostReason, by=by, name=name, active=bool(active), sort_order=last + STEP
    )


@transaction.atomic
def update_lost_reason(
    reason: LostReason, *, by: User | None, version: int | None = None, **facts: Any
) -> LostReason:
    """Rename a reason, move it in the list (``sort_order``) or (de)activate it; opportunities
    lost for it keep it."""
    _check_administer(by)
    unknown = set(facts) - {"name", "sort_order", "active"}
    if unknown:
        raise _error(sorted(unknown)[0], _("This field is not known."), ErrorCode.INVALID)
    changes: dict[str, Any] = {}
    if "name" in facts:
        changes["name"] = _reason_name(facts["name"], exclude=reason)
    if "active" in facts:
        changes["active"] = bool(facts["active"])
    if "sort_order" in facts:
        try:
            changes["sort_order"] = int(facts["sort_order"])
        except (TypeError, ValueError):
            raise _error("sort_order", _("Enter a whole number."), ErrorCode.INVALID) from None
    return core_services.update_record(reason, by=by, expected_version=version, **changes)


@transaction.atomic
def delete_lost_reason(reason: LostReason, *, by: User | None) -> None:
    """Move an unused reason to the recycle bin; one that was used is deactivated instead
    (refused here, so that the caller says so)."""
    _check_administer(by)
    if reason_in_use(reason):
        raise _error(
            "lost_reason",
            _(
                "Opportunities were lost for “%(name)s”: deactivate the reason instead, so "
                "that they keep it."
            )
            % {"name": reason.name},
            ErrorCode.IN_USE,
        )
    core_services.soft_delete(reason, by=by)


@transaction.atomic
def restore_lost_reason(reason: LostReason, *, by: User | None) -> None:
    _check_administer(by)
    _reason_name(reason.name, exclude=reason)
    core_services.restore(reason, by=by)


# --- Products ----------------------------------------------------------------------------------

PRODUCT_FACTS = ("code", "name", "unit", "price", "currency", "description", "active")


def _product_code(code: Any, *, exclude: Product | None = None) -> str:
    code = _text(code, "code", 40)
    if code:
        others = Product.objects.filter(code__iexact=code).exclude(pk=getattr(exclude, "pk", None))
        if others.exists():
            raise _error(
                "code",
                _("A product with code “%(code)s” exists already.") % {"code": code},
                ErrorCode.DUPLICATE,
            )
    return code


def _price(value: Any) -> Decimal:
    try:
        price = Decimal(str(value if value not in (None, "") else "0"))
    except (InvalidOperation, ValueError):
        raise _error("price", _("Enter a number."), ErrorCode.INVALID) from None
    if not price.is_finite() or price < 0:
        raise _error("price", _("The price cannot be negative."), ErrorCode.INVALID)
    if price != price.quantize(Decimal("0.01")) or price >= Decimal("1e12"):
        raise _error(
            "price",
            _("Enter an amount below one trillion with at most two decimals."),
            ErrorCode.INVALID,
        )
    return price.quantize(Decimal("0.01"))


def _currency(value: Any) -> str:
    currency = str(value or "").strip().upper()
    if not CURRENCY.match(currency):
        raise _error(
            "currency",
            _("Enter the currency as three letters, e.g. CNY or USD."),
            ErrorCode.INVALID,
        )
    return currency


def _product_facts(facts: dict[str, Any], *, product: Product | None = None) -> dict[str, Any]:
    unknown = set(facts) - set(PRODUCT_FACTS)
    if unknown:
        raise _error(sorted(unknown)[0], _("This field is not known."), ErrorCode.INVALID)
    cleaned: dict[str, Any] = {}
    if "name" in facts:
        cleaned["name"] = _text(
            facts["name"], "name", 100, required=True, message=_("Give the product a name.")
        )
    if "code" in facts:
        cleaned["code"] = _product_code(facts["code"], exclude=product)
    if "unit" in facts:
        cleaned["unit"] = _text(facts["unit"], "unit", 20)
    if "price" in facts:
        cleaned["price"] = _price(facts["price"])
    if "currency" in facts:
        cleaned["currency"] = _currency(facts["currency"])
    if "description" in facts:
        cleaned["description"] = _text(facts["description"], "description", 300)
    if "active" in facts:
        cleaned["active"] = bool(facts["active"])
    return cleaned


@transaction.atomic
def create_product(
    *,
    by: User | None,
    name: str,
    code: str = "",
    unit: str = "",
    price: Decimal | str | int = 0,
    currency: str = "CNY",
    description: str = "",
    active: bool = True,
) -> Product:
    """A catalogue entry; its code (if any) is unique among the products not deleted."""
    _check_administer(by, "product")
    cleaned = _product_facts(
        {
            "name": name,
            "code": code,
            "unit": unit,
            "price": price,
            "currency": currency,
            "description": description,
            "active": active,
        }
    )
    return core_services.create_record(Product, by=by, **cleaned)


@transaction.atomic
def update_product(
    product: Product, *, by: User | None, version: int | None = None, **facts: Any
) -> Product:
    """Change a product; opportunity lines keep the price they were given."""
    _check_administer(by, "product")
    cleaned = _product_facts(facts, product=product)
    return core_services.update_record(product, by=by, expected_version=version, **cleaned)


@transaction.atomic
def delete_product(product: Product, *, by: User | None) -> None:
    """Move a product to the recycle bin; opportunity lines keep pointing at it."""
    _check_administer(by, "product")
    core_services.soft_delete(product, by=by)


@transaction.atomic
def restore_product(product: Product, *, by: User | None) -> None:
    """Bring a product back; its code must still be free."""
    _check_administer(by, "product")
    _product_code(product.code, exclude=product)
    core_services.restore(product, by=by)
