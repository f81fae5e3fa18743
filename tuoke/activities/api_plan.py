"""The API of tasks and the daily plan (parse → service → schema): tasks (list, create, read,
edit, delete, complete, reopen), the caller's plan for a day, his team's day (managers), the
cadences, and running the plan (administrators).

Every task is read within the caller's data scope (out of it: 404); writes go through
``tuoke.activities.plan``."""

from datetime import date, datetime
from typing import Any, Literal

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
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
from tuoke.core.errors import ErrorCode, field_error, fields_renamed
from tuoke.core.models import Action
from tuoke.core.scope import get_for, get_for_action, require
from tuoke.customers.models import Customer
from tuoke.leads.models import Lead

from . import plan
from .models import Cadence, FollowUpKind, Task

router = Router(tags=["Tasks and plan"])

# --- Schemas ----------------------------------------------------------------------------------


def _ref(record: Any) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"id": record.pk, "name": getattr(record, "display_name", None) or str(record)}


def _person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "display_name": user.display_name}


class TaskOut(Schema):
    id: int
    title: str = Field(examples=["例行跟进：腾达精密"])
    display_title: str = Field(
        description="The title in the caller's language (a plan source may word it)",
        examples=["例行跟进"],
    )
    note: str
    due_on: date = Field(examples=["2026-11-24"])
    owner: PersonRef = Field(description="The assignee")
    customer: Ref | None
    lead: Ref | None
    kind: str | None = Field(
        description="Key of the follow-up kind that does it (pre-filled when logging)",
        examples=["call"],
    )
    source: str = Field(
        description="`manual`, or the plan source that made it: `cadence`, `next_step` …",
        examples=["cadence"],
    )
    source_key: str = Field(
        description="What a generated task is about, e.g. `customer:12`, `follow_up:34`",
        examples=["customer:12"],
    )
    done: bool
    done_at: datetime | None
    done_by: PersonRef | None
    done_with_follow_up_id: int | None = Field(description="The follow-up that did it")
    created_by: PersonRef | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_display_title(task: Task) -> str:
        return plan.shown_title(task)

    @staticmethod
    def resolve_owner(task: Task) -> dict[str, Any] | None:
        return _person(task.owner)

    @staticmethod
    def resolve_customer(task: Task) -> dict[str, Any] | None:
        return _ref(task.customer)

    @staticmethod
    def resolve_lead(task: Task) -> dict[str, Any] | None:
        return _ref(task.lead)

    @staticmethod
    def resolve_kind(task: Task) -> str | None:
        return task.kind.key if task.kind_id else None

    @staticmethod
    def resolve_done(task: Task) -> bool:
        return task.done_at is not None

    @staticmethod
    def resolve_done_by(task: Task) -> dict[str, Any] | None:
        return _person(task.done_by)

    @staticmethod
    def resolve_done_with_follow_up_id(task: Task) -> int | None:
        return task.done_with_id

    @staticmethod
    def resolve_created_by(task: Task) -> dict[str, Any] | None:
        return _person(task.created_by)


class TaskFilters(Schema):
    owner: RecordId | None = Field(
        None, description="The assignee's user id (default: the caller); within your scope"
    )
    given: bool = Field(False, description="True: the tasks you gave to others")
    status: Literal["open", "overdue", "done", "all"] = "open"
    due_from: date | None = Field(None, description="Due on or after this day")
    due_until: date | None = Field(None, description="Due on or before this day")
    source: str | None = Field(None, max_length=30, examples=["cadence"])
    customer_id: RecordId | None = None
    lead_id: RecordId | None = None
    q: Text | None = Field(None, max_length=100, description="Part of the title or note")


class TaskCreate(Schema):
    title: Text = Field(min_length=1, max_length=200, examples=["准备技术方案"])
    due_on: date = Field(examples=["2026-11-26"])
    owner_id: RecordId | None = Field(
        None, description="The assignee (default: the caller); someone within your scope"
    )
    note: Text = Field("", max_length=2000, examples=["客户要求周四前发到采购邮箱"])
    customer_id: RecordId | None = Field(None, examples=[12])
    lead_id: RecordId | None = None
    kind: str | None = Field(
        None, max_length=30, description="Follow-up kind key", examples=["meeting"]
    )


class TaskUpdate(VersionedPatch):
    title: Text | None = Field(None, max_length=200)
    due_on: date | None = Field(None, examples=["2026-11-27"])
    owner_id: RecordId | None = Field(None, description="Give it to someone within your scope")
    note: Text | None = Field(None, max_length=2000)
    customer_id: RecordId | None = Field(None, description="null: about no customer")
    lead_id: RecordId | None = Field(None, description="null: about no lead")
    kind: str | None = Field(None, max_length=30, description="null: no kind")


class DoneIn(Schema):
    version: int | None = Field(None, ge=0, le=2**31 - 1, description="Optional version check")


class UntouchedOut(Schema):
    id: int
    name: str = Field(examples=["腾达精密"])
    tier: str
    last_follow_up_at: datetime | None


class PlanOut(Schema):
    day: date
    overdue: list[TaskOut] = Field(
        description=f"Open, due before the day (the first {plan.OVERDUE_SHOWN})"
    )
    overdue_count: int
    today: list[TaskOut] = Field(description="Open, due that day")
    upcoming: list[TaskOut] = Field(description=f"Open, due within {plan.UPCOMING_DAYS} days after")
    done: list[TaskOut] = Field(description="Done during the day")
    untouched_customers: list[UntouchedOut] = Field(
        default_factory=list, description="Your customers followed up longest ago"
    )


class MemberDayOut(Schema):
    user: PersonRef
    open: int = Field(description="Due by the day and not done at its end")
    overdue: int = Field(description="Of those, due before the day")
    done: int = Field(description="Done during the day")
    completion: int | None = Field(description="Done out of done + open, in percent")


class TeamDayOut(Schema):
    day: date
    members: list[MemberDayOut]


class RunIn(Schema):
    day: date | None = Field(None, description="Default today", examples=["2026-11-24"])
    sources: list[str] | None = Field(
        None, description="Only these sources", examples=[["cadence"]]
    )


class RunOut(Schema):
    id: int
    day: date
    created: int = Field(description="Tasks made")
    counts: dict[str, int] = Field(examples=[{"next_step": 3, "cadence": 120}])
    started_at: datetime
    finished_at: datetime | None
    trigger: str


class CadenceOut(Schema):
    tier: str = Field(description='"" for customers without a tier', examples=["A"])
    days: int = Field(examples=[7])


class CadencesIn(Schema):
    cadences: dict[str, int | None] = Field(
        description='Tier ("A", "B", "C", "" for untiered) → days (1–365); null stops planning '
        "that tier by cadence; tiers not sent keep theirs",
        examples=[{"A": 7, "B": 14, "C": 30, "": 30}],
    )


# --- Helpers ----------------------------------------------------------------------------------

INPUT_NAMES = {"owner": "owner_id", "customer": "customer_id", "lead": "lead_id"}


def _tasks():
    return Task.objects.select_related("owner", "customer", "lead", "kind", "done_by", "created_by")


def _kind(key: str | None) -> FollowUpKind | None:
    if not key:
        return None
    found = FollowUpKind.objects.filter(key=key).first()
    if found is None:
        raise field_error("kind", _("Unknown kind of follow-up."), ErrorCode.INVALID)
    return found


def _assignee(user, pk: int | None):
    if pk is None:
        return None
    if pk == user.pk:
        return user
    found = plan.assignable_users(user).filter(pk=pk).first()
    if found is None:
        raise field_error(
            "owner_id", _("You cannot give tasks to this person."), ErrorCode.FORBIDDEN
        )
    return found


def _task(request: HttpRequest, pk: int) -> Task:
    return get_for(request.user, _tasks(), pk)


# --- Tasks ------------------------------------------------------------------------------------


@router.get("/tasks", response={200: list[TaskOut], **ERRORS})
@paginate(PagePagination)
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]):
    """Your tasks (or a team member's, with `owner`; or those you gave, with `given`), open
    ones by default, by due day."""
    user = request.user
    tasks = _tasks().visible_to(user)
    if filters.given:
        tasks = tasks.filter(created_by=user).exclude(owner=user)
    elif filters.owner is not None and filters.owner != user.pk:
        if not plan.team_members(user).filter(pk=filters.owner).exists():
            raise field_error("owner", _("This person is not in your team."), ErrorCode.FORBIDDEN)
        tasks = tasks.filter(owner_id=filters.owner)
    else:
        tasks = tasks.filter(owner=user)
    tasks = plan.with_status(tasks, filters.status)
    if filters.due_from:
        tasks = tasks.filter(due_on__gte=filters.due_from)
    if filters.due_until:
        tasks = tasks.filter(due_on__lte=filters.due_until)
    if filters.source:
        tasks = tasks.filter(source=filters.source)
    if filters.customer_id is not None:
        tasks = tasks.filter(customer_id=filters.customer_id)
    if filters.lead_id is not None:
        tasks = tasks.filter(lead_id=filters.lead_id)
    if filters.q:
        tasks = tasks.filter(Q(title__icontains=filters.q) | Q(note__icontains=filters.q))
    if filters.status == "done":
        return tasks.order_by("-done_at", "-pk")
    return tasks.order_by("due_on", "pk")


@router.post("/tasks", response={201: TaskOut, **WRITE_ERRORS})
def create_task(request: HttpRequest, payload: TaskCreate):
    """A task by hand, for you or (managers) someone in your team, who is notified; about a
    customer or lead you can see, if given."""
    user = request.user
    require(user, Task.record_type, Action.CREATE)
    with fields_renamed(INPUT_NAMES):
        task = plan.create_task(
            by=user,
            title=payload.title,
            due_on=payload.due_on,
            owner=_assignee(user, payload.owner_id),
            note=payload.note,
            customer=resolve(user, Customer, payload.customer_id, "customer_id"),
            lead=resolve(user, Lead, payload.lead_id, "lead_id"),
            kind=_kind(payload.kind),
        )
    return Status(201, _task(request, task.pk))


@router.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS})
def get_task(request: HttpRequest, task_id: RecordId):
    return _task(request, task_id)


@router.patch("/tasks/{task_id}", response={200: TaskOut, **WRITE_ERRORS})
def update_task(request: HttpRequest, task_id: RecordId, payload: TaskUpdate):
    """Postpone, reword or reassign a task; `version` must be the one you read (409
    otherwise)."""
    user = request.user
    task = get_for_action(user, _tasks(), task_id, Action.EDIT)
    changes = sent(payload, nullable={"customer_id", "lead_id", "kind", "note"})
    if "owner_id" in changes:
        changes["owner"] = _assignee(user, changes.pop("owner_id"))
    if "customer_id" in changes:
        changes["customer"] = resolve(user, Customer, changes.pop("customer_id"), "customer_id")
    if "lead_id" in changes:
        changes["lead"] = resolve(user, Lead, changes.pop("lead_id"), "lead_id")
    if "kind" in changes:
        changes["kind"] = _kind(changes["kind"])
    with fields_renamed(INPUT_NAMES):
        plan.update_task(task, by=user, expected_version=payload.version, **changes)
    return _task(request, task_id)


@router.delete("/tasks/{task_id}", response={204: None, **WRITE_ERRORS})
def delete_task(request: HttpRequest, task_id: RecordId):
    """Move the task to the recycle bin (a generated one does not come back that day)."""
    task = get_for_action(request.user, Task, task_id, Action.DELETE)
    plan.delete_task(task, by=request.user)
    return Status(204, None)


@router.post("/tasks/{task_id}/complete", response={200: TaskOut, **WRITE_ERRORS})
def complete_task(request: HttpRequest, task_id: RecordId, payload: DoneIn | None = None):
    """Tick the task off (logging a follow-up on its customer does it too)."""
    task = get_for_action(request.user, _tasks(), task_id, Action.EDIT)
    plan.complete_task(task, by=request.user, expected_version=payload.version if payload else None)
    return _task(request, task_id)


@router.post("/tasks/{task_id}/reopen", response={200: TaskOut, **WRITE_ERRORS})
def reopen_task(request: HttpRequest, task_id: RecordId, payload: DoneIn | None = None):
    """Undo "done"; 400 `open_already` when the plan made a new task for the same thing."""
    task = get_for_action(request.user, _tasks(), task_id, Action.EDIT)
    plan.reopen_task(task, by=request.user, expected_version=payload.version if payload else None)
    return _task(request, task_id)


# --- The plan ---------------------------------------------------------------------------------


@router.get("/plan/today", response={200: PlanOut, **ERRORS})
def my_plan(request: HttpRequest, day: date | None = None):
    """Your plan for a day (default today): overdue, due that day, coming up, done that day,
    and your customers not followed up for longest."""
    require(request.user, Task.record_type, Action.VIEW)
    found = plan.plan_of(request.user, request.user, day)
    return {
        "day": found.day,
        "overdue": found.overdue,
        "overdue_count": found.overdue_count,
        "today": found.today,
        "upcoming": found.upcoming,
        "done": found.done,
        "untouched_customers": [
            {
                "id": c.pk,
                "name": c.display_name,
                "tier": c.tier,
                "last_follow_up_at": c.last_follow_up_at,
            }
            for c in found.untouched
        ],
    }


@router.get("/plan/team", response={200: TeamDayOut, **ERRORS})
def team_plan(request: HttpRequest, day: date | None = None):
    """Each member of your team with his open, overdue and done tasks for a day and the
    completion rate (managers; 403 for others)."""
    day = day or plan.today()
    return {
        "day": day,
        "members": [
            {
                "user": _person(row.person),
                "open": row.open,
                "overdue": row.overdue,
                "done": row.done,
                "completion": row.completion,
            }
            for row in plan.team_day(request.user, day)
        ],
    }


@router.post("/plan/run", response={200: RunOut, **WRITE_ERRORS})
def run_plan(request: HttpRequest, payload: RunIn | None = None):
    """Make the plan for a day now (administrators: edit on plan settings); what exists
    already is not made again."""
    require(request.user, Cadence.record_type, Action.EDIT)
    return plan.generate_plan(
        payload.day if payload else None,
        trigger="api",
        only=payload.sources if payload else None,
    )


@router.get("/plan/cadences", response={200: list[CadenceOut], **ERRORS})
def list_cadences(request: HttpRequest):
    """How often customers of each tier are followed up (days)."""
    require(request.user, Cadence.record_type, Action.VIEW)
    return list(Cadence.objects.order_by("tier"))


@router.put("/plan/cadences", response={200: list[CadenceOut], **WRITE_ERRORS})
def set_cadences(request: HttpRequest, payload: CadencesIn):
    """Change the cadences (administrators)."""
    require(request.user, Cadence.record_type, Action.EDIT)
    for tier in payload.cadences:
        if tier not in ("A", "B", "C", "") and not (len(tier) == 1 and tier.isalpha()):
            raise field_error(
                f"cadences.{tier}", _("A tier is one letter, or empty."), ErrorCode.INVALID
            )
    with fields_renamed({f"days_{t or 'none'}": f"cadences.{t}" for t in payload.cadences}):
        return plan.set_cadences(payload.cadences, by=request.user)
