"""The approvals API: the flows administrators define (everyone reads them), the approval
targets clients build flows for, and the requests: an approver's queue, one's own, all one may
see, each with its steps and history, and the decisions on them (parse → tuoke.org.approvals →
schema).

A request out of the caller's sight is 404; one he sees but whose current step does not name
him is 403 with the code ``not_your_step`` (withdrawing another's request: ``not_submitter``)."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tuoke.core.api import (
    ERRORS,
    WRITE_ERRORS,
    PagePagination,
    PersonRef,
    RecordId,
    Ref,
    Text,
    VersionedPatch,
    resolve,
    sent,
)
from tuoke.core.models import Action
from tuoke.core.scope import get_for, get_for_action, require

from . import approvals
from .models import (
    ApprovalFlow,
    ApprovalMode,
    ApprovalRequest,
    ApprovalRequestStep,
    ApprovalStatus,
    ApprovalStep,
    ApproverKind,
    Role,
    User,
)

router = Router(tags=["approvals"])

# --- Schemas ----------------------------------------------------------------------------------


def _person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "display_name": str(user)}


class ApprovalFactOut(Schema):
    key: str = Field(examples=["amount"])
    label: str = Field(examples=["Amount (reporting currency)"])
    kind: Literal["money", "percent", "boolean", "text"]
    operators: list[str] = Field(
        description="The operators a condition on this fact may use", examples=[["gte", "lt"]]
    )


class ApprovalTargetOut(Schema):
    record_type: str = Field(examples=["contract"])
    label: str = Field(examples=["Contract"])
    facts: list[ApprovalFactOut]


class ApprovalOperatorOut(Schema):
    key: str = Field(examples=["gte"])
    label: str = Field(examples=["at least"])


class ApprovalTargetsOut(Schema):
    targets: list[ApprovalTargetOut]
    operators: list[ApprovalOperatorOut]


class ApprovalConditionOut(Schema):
    fact: str = Field(examples=["amount"])
    op: str = Field(examples=["gte"])
    value: str | None = Field(
        description="A decimal for money and percent facts, text, or null for yes/no facts",
        examples=["500000"],
    )


class ApprovalConditionIn(Schema):
    fact: Text = Field(max_length=40, examples=["amount"])
    op: Text = Field(max_length=10, examples=["gte"])
    value: str | Decimal | bool | None = Field(
        None, description="Omitted for yes/no facts", examples=["500000"]
    )


class ApprovalStepOut(Schema):
    id: int
    name: str = Field(examples=["部门经理审批"])
    approver_kind: ApproverKind
    role: Ref | None = Field(description="For approver_kind `role`")
    user: PersonRef | None = Field(description="For approver_kind `user`")
    mode: ApprovalMode = Field(description="`any`: one approver is enough; `all`: every one")

    @staticmethod
    def resolve_role(step: ApprovalStep) -> dict[str, Any] | None:
        return {"id": step.role.pk, "name": step.role.name} if step.role_id else None

    @staticmethod
    def resolve_user(step: ApprovalStep) -> dict[str, Any] | None:
        return _person(step.user) if step.user_id else None


class ApprovalStepIn(Schema):
    name: Text = Field(min_length=1, max_length=60, examples=["财务审核"])
    approver_kind: ApproverKind = Field(
        description="`unit_manager`: the submitter's unit manager (walking up the chart past "
        "himself); `next_manager`: the manager above the previous manager step's; `role`: "
        "everyone holding `role_id`; `user`: the person `user_id`",
        examples=["role"],
    )
    role_id: RecordId | None = Field(None, examples=[7])
    user_id: RecordId | None = None
    mode: ApprovalMode = ApprovalMode.ANY


class ApprovalFlowOut(Schema):
    id: int
    name: str = Field(examples=["大额合同审批"])
    target: str = Field(description="The record type it approves", examples=["contract"])
    description: str = Field(examples=["五十万元以上的合同"])
    conditions: list[ApprovalConditionOut] = Field(description="All must hold; none: always")
    sort_order: int = Field(description="A target's active flows are tried in this order")
    active: bool
    steps: list[ApprovalStepOut]
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_steps(flow: ApprovalFlow) -> list[ApprovalStep]:
        return sorted(flow.steps.all(), key=lambda s: (s.sort_order, s.pk))


STEPS_EXAMPLE = [
    {"name": "部门经理审批", "approver_kind": "unit_manager"},
    {"name": "销售总监审批", "approver_kind": "next_manager"},
    {"name": "财务审核", "approver_kind": "role", "role_id": 7, "mode": "any"},
]


class ApprovalFlowIn(Schema):
    name: Text = Field(min_length=1, max_length=60, examples=["大额合同审批"])
    target: Text = Field(max_length=40, examples=["contract"])
    description: Text = Field("", max_length=300)
    conditions: list[ApprovalConditionIn] = Field(
        default_factory=list,
        examples=[[{"fact": "amount", "op": "gte", "value": "500000"}]],
    )
    steps: list[ApprovalStepIn] = Field(min_length=1, examples=[STEPS_EXAMPLE])
    sort_order: int | None = Field(
        None, ge=-(2**31), le=2**31 - 1, description="Default: after the target's other flows"
    )
    active: bool = True


class ApprovalFlowUpdate(VersionedPatch):
    name: Text | None = Field(None, max_length=60)
    target: Text | None = Field(None, max_length=40)
    description: Text | None = Field(None, max_length=300)
    conditions: list[ApprovalConditionIn] | None = Field(
        None, examples=[[{"fact": "discount", "op": "gte", "value": "20"}]]
    )
    steps: list[ApprovalStepIn] | None = Field(
        None,
        description="Replaces every step; requests already submitted keep theirs",
        examples=[STEPS_EXAMPLE],
    )
    sort_order: int | None = Field(None, ge=-(2**31), le=2**31 - 1)
    active: bool | None = None


class ApprovalFlowFilters(Schema):
    target: Text | None = Field(None, max_length=40, examples=["contract"])
    active: bool | None = None


class ApprovalRequestStepOut(Schema):
    position: int = Field(examples=[1])
    name: str = Field(examples=["部门经理审批"])
    approver_kind: ApproverKind
    mode: ApprovalMode
    approvers: list[PersonRef] = Field(description="Resolved when the request was submitted")
    status: ApprovalRequestStep.Status
    decided_at: datetime | None

    @staticmethod
    def resolve_approvers(step: ApprovalRequestStep) -> list[dict[str, Any] | None]:
        return [_person(u) for u in step.approvers.all()]


class ApprovalActionOut(Schema):
    kind: str = Field(examples=["approve"])
    step: int | None = Field(description="Position of the step it was taken on")
    actor: PersonRef | None
    comment: str = Field(examples=["同意"])
    at: datetime

    @staticmethod
    def resolve_step(action: Any) -> int | None:
        return action.step.position if action.step_id else None

    @staticmethod
    def resolve_actor(action: Any) -> dict[str, Any] | None:
        return _person(action.actor)


class ApprovalRequestOut(Schema):
    id: int
    target: str = Field(description="The record type", examples=["contract"])
    object_id: int = Field(description="The record's id", examples=[42])
    title: str = Field(examples=["HT202607-0012 腾达精密五轴设备采购合同"])
    amount: Decimal | None = Field(examples=["1360000.00"])
    currency: str = Field(examples=["CNY"])
    flow_name: str = Field(examples=["大额合同审批"])
    status: ApprovalStatus
    current_step: int | None = Field(description="Position of the step now waiting")
    current_step_name: str | None = Field(examples=["销售总监审批"])
    waiting_for: list[PersonRef] = Field(description="The approvers of the step now waiting")
    submitted_by: PersonRef
    submitted_at: datetime
    decided_at: datetime | None

    @staticmethod
    def _current(request: ApprovalRequest) -> ApprovalRequestStep | None:
        return next((s for s in request.steps.all() if s.position == request.current_step), None)

    @staticmethod
    def resolve_current_step_name(request: ApprovalRequest) -> str | None:
        step = ApprovalRequestOut._current(request)
        return step.name if step else None

    @staticmethod
    def resolve_waiting_for(request: ApprovalRequest) -> list[dict[str, Any] | None]:
        step = ApprovalRequestOut._current(request)
        return [_person(u) for u in step.approvers.all()] if step else []

    @staticmethod
    def resolve_submitted_by(request: ApprovalRequest) -> dict[str, Any] | None:
        return _person(request.owner)


class ApprovalRequestDetailOut(ApprovalRequestOut):
    record_url: str = Field(description="The record's page", examples=["/contracts/42/"])
    may_decide: bool = Field(description="The caller may approve, reject or return it now")
    may_withdraw: bool = Field(description="The caller submitted it and it is pending")
    steps: list[ApprovalRequestStepOut]
    actions: list[ApprovalActionOut] = Field(description="Oldest first")

    @staticmethod
    def resolve_record_url(request: ApprovalRequest) -> str:
        return approvals.record_url(request)

    @staticmethod
    def resolve_may_decide(request: ApprovalRequest, context: dict[str, Any]) -> bool:
        return approvals.may_decide(context["request"].user, request)

    @staticmethod
    def resolve_may_withdraw(request: ApprovalRequest, context: dict[str, Any]) -> bool:
        return approvals.may_withdraw(context["request"].user, request)

    @staticmethod
    def resolve_steps(request: ApprovalRequest) -> list[ApprovalRequestStep]:
        return sorted(request.steps.all(), key=lambda s: s.position)

    @staticmethod
    def resolve_actions(request: ApprovalRequest) -> list[Any]:
        return sorted(request.actions.all(), key=lambda a: (a.at, a.pk))


class ApprovalRequestFilters(Schema):
    box: Literal["queue", "mine", "all"] = Field(
        "all",
        description="`queue`: waiting for the caller's decision (oldest first); `mine`: "
        "submitted by him; `all`: every request he may see (newest first)",
    )
    status: ApprovalStatus | None = None
    target: Text | None = Field(None, max_length=40, examples=["contract"])


class ApprovalDecisionIn(Schema):
    comment: Text = Field(
        "",
        max_length=2000,
        description="Required to reject or return the request",
        examples=["同意，注意回款节点"],
    )


# --- Helpers ----------------------------------------------------------------------------------


def _flows() -> QuerySet[ApprovalFlow]:
    return ApprovalFlow.objects.prefetch_related(
        Prefetch("steps", queryset=ApprovalStep.objects.select_related("role", "user"))
    )


def _listed(queryset: QuerySet[ApprovalRequest]) -> QuerySet[ApprovalRequest]:
    return queryset.select_related("owner").prefetch_related(
        Prefetch(
            "steps",
            queryset=ApprovalRequestStep.objects.prefetch_related(
                Prefetch("approvers", queryset=User.objects.order_by("username"))
            ),
        )
    )


def _steps(user: User, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps for the service, each role and person looked up within the caller's sight."""
    found = []
    for index, step in enumerate(steps):
        found.append(
            {
                "name": step["name"],
                "approver_kind": step["approver_kind"],
                "mode": step.get("mode") or ApprovalMode.ANY,
                "role": resolve(user, Role, step.get("role_id"), f"steps.{index}.role_id"),
                "user": resolve(user, User, step.get("user_id"), f"steps.{index}.user_id"),
            }
        )
    return found


def _conditions(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**c, "value": str(c["value"]) if isinstance(c["value"], Decimal) else c["value"]}
        for c in conditions
    ]


def _input_names(exc: ValidationError) -> ValidationError:
    """``steps.0.role`` (the service's name) → ``steps.0.role_id`` (the input's)."""
    if not hasattr(exc, "error_dict"):
        return exc
    renamed = {}
    for name, errors in exc.error_dict.items():
        if name.startswith("steps.") and name.endswith((".role", ".user")):
            name = f"{name}_id"
        renamed[name] = errors
    return ValidationError(renamed)


def _flow_out(request: HttpRequest, pk: int) -> ApprovalFlow:
    return get_for(request.user, _flows(), pk)


def _request_out(request: HttpRequest, pk: int) -> ApprovalRequest:
    return approvals.get_request_for(request.user, pk)


def _denied(exc: approvals.ApprovalDenied) -> Status:
    return Status(403, {"detail": str(exc), "code": str(exc.code), "errors": []})


# --- Targets and flows ------------------------------------------------------------------------


@router.get("/approval-targets", response={200: ApprovalTargetsOut, **ERRORS})
def list_approval_targets(request: HttpRequest):
    """The record types flows can approve, with the facts their conditions may test and the
    operators each kind of fact takes."""
    require(request.user, ApprovalFlow.record_type, Action.VIEW)
    found = [
        {
            "record_type": t.record_type,
            "label": str(t.label),
            "facts": [
                {
                    "key": f.key,
                    "label": str(f.label),
                    "kind": f.kind,
                    "operators": list(approvals.OPERATORS_BY_KIND[f.kind]),
                }
                for f in t.facts
            ],
        }
        for t in sorted(approvals.targets().values(), key=lambda t: t.record_type)
    ]
    operators = [
        {"key": key, "label": str(label)} for key, label in approvals.OPERATOR_LABELS.items()
    ]
    return {"targets": found, "operators": operators}


@router.get("/approval-flows", response={200: list[ApprovalFlowOut], **ERRORS})
@paginate(PagePagination)
def list_approval_flows(request: HttpRequest, filters: Query[ApprovalFlowFilters]):
    """The flows by target and in the order they are tried."""
    require(request.user, ApprovalFlow.record_type, Action.VIEW)
    flows = _flows().visible_to(request.user).order_by("target", "sort_order", "pk")
    if filters.target:
        flows = flows.filter(target=filters.target)
    if filters.active is not None:
        flows = flows.filter(active=filters.active)
    return flows


@router.post("/approval-flows", response={201: ApprovalFlowOut, **WRITE_ERRORS})
def create_approval_flow(request: HttpRequest, payload: ApprovalFlowIn):
    """A new flow (administrators). Conditions name facts of the target
    (`GET /approval-targets`); errors name the part, e.g. `conditions.0.value`,
    `steps.1.role_id`."""
    user = request.user
    require(user, ApprovalFlow.record_type, Action.ADMINISTER)
    data = payload.model_dump()
    try:
        flow = approvals.create_flow(
            by=user,
            name=data["name"],
            target=data["target"],
            description=data["description"],
            conditions=_conditions(data["conditions"]),
            steps=_steps(user, data["steps"]),
            sort_order=data["sort_order"],
            active=data["active"],
        )
    except ValidationError as exc:
        raise _input_names(exc) from exc
    return Status(201, _flow_out(request, flow.pk))


@router.get("/approval-flows/{flow_id}", response={200: ApprovalFlowOut, **ERRORS})
def get_approval_flow(request: HttpRequest, flow_id: RecordId):
    return _flow_out(request, flow_id)


@router.patch("/approval-flows/{flow_id}", response={200: ApprovalFlowOut, **WRITE_ERRORS})
def update_approval_flow(request: HttpRequest, flow_id: RecordId, payload: ApprovalFlowUpdate):
    """Change a flow (administrators); `steps` replaces every step. Requests already
    submitted keep the steps and approvers they were submitted with."""
    user = request.user
    flow = get_for_action(user, _flows(), flow_id, Action.ADMINISTER)
    changes = sent(payload)
    if "conditions" in changes:
        changes["conditions"] = _conditions(changes["conditions"])
    try:
        if "steps" in changes:
            changes["steps"] = _steps(user, changes["steps"])
        approvals.update_flow(flow, by=user, version=payload.version, **changes)
    except ValidationError as exc:
        raise _input_names(exc) from exc
    return _flow_out(request, flow_id)


@router.delete("/approval-flows/{flow_id}", response={204: None, **WRITE_ERRORS})
def delete_approval_flow(request: HttpRequest, flow_id: RecordId):
    """Move the flow to the recycle bin; requests submitted under it go on unchanged."""
    flow = get_for_action(request.user, ApprovalFlow, flow_id, Action.ADMINISTER)
    approvals.delete_flow(flow, by=request.user)
    return Status(204, None)


# --- Requests ---------------------------------------------------------------------------------


@router.get("/approval-requests", response={200: list[ApprovalRequestOut], **ERRORS})
@paginate(PagePagination)
def list_approval_requests(request: HttpRequest, filters: Query[ApprovalRequestFilters]):
    """Approval requests: the caller's queue, his own, or every one he may see."""
    user = request.user
    if filters.box == "queue":
        requests = approvals.queue(user)
    else:
        requests = approvals.requests_of(user).order_by("-submitted_at", "-pk")
        if filters.box == "mine":
            requests = requests.filter(owner=user)
    if filters.status:
        requests = requests.filter(status=filters.status)
    if filters.target:
        requests = requests.filter(target=filters.target)
    return _listed(requests)


@router.get("/approval-requests/{request_id}", response={200: ApprovalRequestDetailOut, **ERRORS})
def get_approval_request(request: HttpRequest, request_id: RecordId):
    """A request with its steps (approvers resolved when it was submitted, each step's
    status) and its history of actions."""
    return _request_out(request, request_id)


def _decide(request: HttpRequest, request_id: int, decision, **kwargs: Any):
    found = _request_out(request, request_id)
    try:
        decision(found, by=request.user, **kwargs)
    except approvals.ApprovalDenied as exc:
        return _denied(exc)
    return _request_out(request, request_id)


@router.post(
    "/approval-requests/{request_id}/approve",
    response={200: ApprovalRequestDetailOut, **WRITE_ERRORS},
)
def approve_approval_request(
    request: HttpRequest, request_id: RecordId, payload: ApprovalDecisionIn
):
    """Approve the current step (403 `not_your_step` unless it names the caller). The last
    step approves the request and its record (a contract becomes effective)."""
    return _decide(request, request_id, approvals.approve, comment=payload.comment)


@router.post(
    "/approval-requests/{request_id}/reject",
    response={200: ApprovalRequestDetailOut, **WRITE_ERRORS},
)
def reject_approval_request(
    request: HttpRequest, request_id: RecordId, payload: ApprovalDecisionIn
):
    """Reject the request; `comment` is required (400 naming `comment`)."""
    return _decide(request, request_id, approvals.reject, comment=payload.comment)


@router.post(
    "/approval-requests/{request_id}/return",
    response={200: ApprovalRequestDetailOut, **WRITE_ERRORS},
)
def return_approval_request(
    request: HttpRequest, request_id: RecordId, payload: ApprovalDecisionIn
):
    """Send the request back to the submitter for changes; `comment` is required."""
    return _decide(request, request_id, approvals.return_for_changes, comment=payload.comment)


@router.post(
    "/approval-requests/{request_id}/withdraw",
    response={200: ApprovalRequestDetailOut, **WRITE_ERRORS},
)
def withdraw_approval_request(
    request: HttpRequest, request_id: RecordId, payload: ApprovalDecisionIn
):
    """The submitter takes his pending request back (403 `not_submitter` for anyone else)."""
    return _decide(request, request_id, approvals.withdraw, comment=payload.comment)
