"""The API of follow-ups, visits, comments and the follow-up kinds (parse → service → schema).

Every record is read within the caller's data scope (out of it: 404); writes go through
``tuoke.activities.services``."""

from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
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
    required,
    required_after_fetch,
    resolve,
    resolve_many,
    sent,
)
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.models import Action
from tuoke.core.scope import get_for, get_for_action, require
from tuoke.customers.models import Contact, Customer
from tuoke.leads.models import Lead

from . import services
from .models import Comment, FollowUp, FollowUpKind, Task, Visit

router = Router(tags=["activities"])

# --- Schemas ----------------------------------------------------------------------------------


def _ref(record: Any) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"id": record.pk, "name": getattr(record, "display_name", None) or str(record)}


class KindOut(Schema):
    key: str = Field(examples=["call"], description="What the API and links name the kind by")
    label: str = Field(examples=["电话"])
    icon: str = Field(examples=["phone"])
    active: bool = Field(description="Offered for new follow-ups")
    sort_order: int


class FollowUpOut(Schema):
    id: int
    kind: str = Field(examples=["call"], description="The kind's key")
    kind_label: str = Field(examples=["电话"])
    customer: Ref | None
    lead: Ref | None
    owner: PersonRef = Field(description="Who logged it")
    happened_at: datetime
    content: str = Field(examples=["电话沟通报价，客户希望月底前看到方案。"])
    result: str = Field(examples=["有意向"])
    next_step: str = Field(examples=["发送报价"])
    next_step_on: date | None
    contacts: list[Ref]
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_kind(follow_up: FollowUp) -> str:
        return follow_up.kind.key

    @staticmethod
    def resolve_kind_label(follow_up: FollowUp) -> str:
        return follow_up.kind.label

    @staticmethod
    def resolve_customer(follow_up: FollowUp) -> dict[str, Any] | None:
        return _ref(follow_up.customer)

    @staticmethod
    def resolve_lead(follow_up: FollowUp) -> dict[str, Any] | None:
        return _ref(follow_up.lead)

    @staticmethod
    def resolve_contacts(follow_up: FollowUp) -> list[dict[str, Any]]:
        return [{"id": c.pk, "name": c.name} for c in follow_up.contacts.all()]


class FollowUpFilters(Schema):
    customer: RecordId | None = Field(None, description="Customer id")
    lead: RecordId | None = Field(None, description="Lead id")
    owner: RecordId | None = Field(None, description="Id of the user who logged it")
    kind: Text | None = Field(None, max_length=30, description="A kind's key", examples=["call"])
    since: date | None = Field(None, description="Happened on or after this day")
    until: date | None = Field(None, description="Happened on or before this day")


class FollowUpIn(Schema):
    customer_id: RecordId | None = Field(None, description="The customer; or `lead_id`, or both")
    lead_id: RecordId | None = None
    kind: Text = Field(max_length=30, examples=["call"], description="A kind's key")
    content: Text = Field(
        min_length=1, max_length=5000, examples=["电话沟通报价，客户希望月底前看到方案。"]
    )
    happened_at: datetime | None = Field(None, description="Default: now; not in the future")
    result: Text = Field("", max_length=200, examples=["有意向"])
    next_step: Text = Field("", max_length=200, examples=["发送报价"])
    next_step_on: date | None = Field(
        None, description="Makes a task for the next step, due that day", examples=["2026-03-17"]
    )
    contact_ids: list[RecordId] = Field(
        default_factory=list, description="Contacts of the customer"
    )
    task_id: RecordId | None = Field(None, description="The task this follow-up does")


class FollowUpUpdate(VersionedPatch):
    kind: Text | None = Field(None, max_length=30)
    content: Text | None = Field(None, min_length=1, max_length=5000)
    happened_at: datetime | None = None
    result: Text | None = Field(None, max_length=200)
    next_step: Text | None = Field(None, max_length=200)
    next_step_on: date | None = Field(None, description="null drops the next step's task")
    contact_ids: list[RecordId] | None = None


class VisitOut(Schema):
    id: int
    customer: Ref
    owner: PersonRef = Field(description="The rep who makes the visit")
    planned_at: datetime
    purpose: str = Field(examples=["演示新产品"])
    status: Visit.Status
    checked_in_at: datetime | None
    latitude: float | None = Field(examples=[31.230416])
    longitude: float | None = Field(examples=[121.473702])
    accuracy_m: int | None = Field(description="How far off the place may be, in metres")
    address: str
    follow_up_id: int | None = Field(description="The follow-up logged when it was completed")
    contacts: list[Ref]
    version: int

    @staticmethod
    def resolve_customer(visit: Visit) -> dict[str, Any] | None:
        return _ref(visit.customer)

    @staticmethod
    def resolve_latitude(visit: Visit) -> float | None:
        return float(visit.latitude) if visit.latitude is not None else None

    @staticmethod
    def resolve_longitude(visit: Visit) -> float | None:
        return float(visit.longitude) if visit.longitude is not None else None

    @staticmethod
    def resolve_contacts(visit: Visit) -> list[dict[str, Any]]:
        return [{"id": c.pk, "name": c.name} for c in visit.contacts.all()]


class VisitFilters(Schema):
    status: Visit.Status | None = None
    customer: RecordId | None = None
    owner: RecordId | None = Field(None, description="The rep's user id")
    since: date | None = Field(None, description="Planned on or after this day")
    until: date | None = Field(None, description="Planned on or before this day")


class VisitIn(Schema):
    customer_id: RecordId
    planned_at: datetime = Field(examples=["2026-03-12T10:00:00+08:00"])
    purpose: Text = Field("", max_length=200, examples=["演示新产品"])
    contact_ids: list[RecordId] = Field(default_factory=list)


class CheckInIn(Schema):
    """The place as the device's geolocation gave it; all optional (a check-in without the
    place keeps the time only)."""

    latitude: float | None = Field(None, examples=[31.230416])
    longitude: float | None = Field(None, examples=[121.473702])
    accuracy_m: float | None = Field(None, examples=[15])
    address: Text = Field("", max_length=300, examples=["上海市黄浦区南京东路 100 号"])


class CompleteIn(Schema):
    content: Text | None = Field(None, max_length=5000, examples=["演示顺利，客户认可方案。"])
    result: Text = Field("", max_length=200)
    next_step: Text = Field("", max_length=200)
    next_step_on: date | None = None
    contact_ids: list[RecordId] | None = Field(None, description="Default: the visit's contacts")

    model_config = {"json_schema_extra": required_after_fetch("content")}


class CancelIn(Schema):
    reason: Text = Field("", max_length=500, examples=["客户临时出差"])


class CommentOut(Schema):
    id: int
    customer: Ref | None
    lead: Ref | None
    author: PersonRef
    body: str = Field(examples=["@王经理 请帮忙看一下报价"])
    mentions: list[PersonRef] = Field(description="The colleagues the comment notified")
    created_at: datetime

    @staticmethod
    def resolve_customer(comment: Comment) -> dict[str, Any] | None:
        return _ref(comment.customer)

    @staticmethod
    def resolve_lead(comment: Comment) -> dict[str, Any] | None:
        return _ref(comment.lead)

    @staticmethod
    def resolve_mentions(comment: Comment) -> list[Any]:
        return list(comment.mentions.all())


class CommentFilters(Schema):
    customer: RecordId | None = Field(None, description="Customer id (or `lead`)")
    lead: RecordId | None = None


class CommentIn(Schema):
    customer_id: RecordId | None = Field(None, description="The customer; or `lead_id`")
    lead_id: RecordId | None = None
    body: Text = Field(
        min_length=1,
        max_length=5000,
        description="`@` followed by a colleague's display name or username mentions him",
        examples=["@王经理 请帮忙看一下报价"],
    )


# --- Helpers ----------------------------------------------------------------------------------


def _aware(value: datetime | None) -> datetime | None:
    """A time sent without its zone is read in the server's (China) time."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _subjects(request: HttpRequest, customer_id, lead_id) -> tuple[Customer | None, Lead | None]:
    user = request.user
    customer = resolve(user, Customer, customer_id, "customer_id")
    lead = resolve(user, Lead, lead_id, "lead_id")
    if customer is None and lead is None:
        raise field_error("customer_id", _("Choose the customer or lead."), ErrorCode.REQUIRED)
    return customer, lead


def _follow_ups() -> QuerySet[FollowUp]:
    return FollowUp.objects.select_related("kind", "owner", "customer", "lead").prefetch_related(
        "contacts"
    )


def _visits() -> QuerySet[Visit]:
    return Visit.objects.select_related("customer", "owner").prefetch_related("contacts")


def _comments() -> QuerySet[Comment]:
    return Comment.objects.select_related("author", "customer", "lead").prefetch_related("mentions")


# --- Follow-ups -------------------------------------------------------------------------------


@router.get("/follow-up-kinds", response={200: list[KindOut], **ERRORS})
def list_kinds(request: HttpRequest, include_inactive: bool = False):
    """The kinds of follow-up in their order; those no longer offered with
    `include_inactive=true`."""
    kinds = FollowUpKind.objects.visible_to(request.user).order_by("sort_order", "pk")
    return kinds if include_inactive else kinds.filter(active=True)


@router.get("/follow-ups", response={200: list[FollowUpOut], **ERRORS})
@paginate(PagePagination)
def list_follow_ups(request: HttpRequest, filters: Query[FollowUpFilters]):
    """The follow-ups about customers and leads in the caller's scope (and his own), newest
    first."""
    follow_ups = _follow_ups().visible_to(request.user)
    if filters.customer is not None:
        follow_ups = follow_ups.filter(customer_id=filters.customer)
    if filters.lead is not None:
        follow_ups = follow_ups.filter(lead_id=filters.lead)
    if filters.owner is not None:
        follow_ups = follow_ups.filter(owner_id=filters.owner)
    if filters.kind:
        follow_ups = follow_ups.filter(kind__key=filters.kind)
    follow_ups = follow_ups.filter(services.on_days("happened_at", filters.since, filters.until))
    return follow_ups.order_by("-happened_at", "-pk")


@router.post("/follow-ups", response={201: FollowUpOut, **WRITE_ERRORS})
def log_follow_up(request: HttpRequest, payload: FollowUpIn):
    """Log a follow-up: the customer's last follow-up time moves on, a customer still a lead
    becomes potential, the caller's tasks there due today or earlier (and `task_id`) are
    done with it, and `next_step_on` makes a task for the next step."""
    user = request.user
    require(user, FollowUp.record_type, Action.CREATE)
    customer, lead = _subjects(request, payload.customer_id, payload.lead_id)
    follow_up = services.log_follow_up(
        by=user,
        customer=customer,
        lead=lead,
        kind=payload.kind,
        content=payload.content,
        happened_at=_aware(payload.happened_at),
        result=payload.result,
        next_step=payload.next_step,
        next_step_on=payload.next_step_on,
        contacts=resolve_many(user, Contact, payload.contact_ids, "contact_ids"),
        task=resolve(user, Task, payload.task_id, "task_id"),
    )
    return Status(201, get_for(user, _follow_ups(), follow_up.pk))


@router.get("/follow-ups/{follow_up_id}", response={200: FollowUpOut, **ERRORS})
def get_follow_up(request: HttpRequest, follow_up_id: RecordId):
    return get_for(request.user, _follow_ups(), follow_up_id)


@router.patch("/follow-ups/{follow_up_id}", response={200: FollowUpOut, **WRITE_ERRORS})
def update_follow_up(request: HttpRequest, follow_up_id: RecordId, payload: FollowUpUpdate):
    """Correct a follow-up (its author, or a manager: 403 for others); `version` must be the
    one you read. Its next step's task follows a new date."""
    user = request.user
    follow_up = get_for_action(user, _follow_ups(), follow_up_id, Action.EDIT)
    changes = sent(payload, nullable={"next_step_on"})
    contacts = None
    if "contact_ids" in changes:
        contacts = resolve_many(user, Contact, changes.pop("contact_ids"), "contact_ids")
    if "happened_at" in changes:
        changes["happened_at"] = _aware(changes["happened_at"])
    services.update_follow_up(
        follow_up, by=user, expected_version=payload.version, contacts=contacts, **changes
    )
    return get_for(user, _follow_ups(), follow_up.pk)


@router.delete("/follow-ups/{follow_up_id}", response={204: None, **WRITE_ERRORS})
def delete_follow_up(request: HttpRequest, follow_up_id: RecordId):
    """Move a follow-up to the recycle bin with its open next-step task."""
    follow_up = get_for_action(request.user, FollowUp, follow_up_id, Action.DELETE)
    services.delete_follow_up(follow_up, by=request.user)
    return Status(204, None)


# --- Visits -----------------------------------------------------------------------------------


@router.get("/visits", response={200: list[VisitOut], **ERRORS})
@paginate(PagePagination)
def list_visits(request: HttpRequest, filters: Query[VisitFilters]):
    """Visits to customers in the caller's scope (and his own); planned ones soonest first
    when `status=planned`, otherwise newest first."""
    visits = _visits().visible_to(request.user)
    if filters.status:
        visits = visits.filter(status=filters.status)
    if filters.customer is not None:
        visits = visits.filter(customer_id=filters.customer)
    if filters.owner is not None:
        visits = visits.filter(owner_id=filters.owner)
    visits = visits.filter(services.on_days("planned_at", filters.since, filters.until))
    if filters.status == Visit.Status.PLANNED:
        return visits.order_by("planned_at", "pk")
    return visits.order_by("-planned_at", "-pk")


@router.post("/visits", response={201: VisitOut, **WRITE_ERRORS})
def plan_visit(request: HttpRequest, payload: VisitIn):
    """Plan a visit; the caller makes it (checks in and completes it)."""
    user = request.user
    require(user, Visit.record_type, Action.CREATE)
    customer = resolve(user, Customer, payload.customer_id, "customer_id")
    visit = services.plan_visit(
        by=user,
        customer=customer,
        planned_at=_aware(payload.planned_at),
        purpose=payload.purpose,
        contacts=resolve_many(user, Contact, payload.contact_ids, "contact_ids"),
    )
    return Status(201, get_for(user, _visits(), visit.pk))


@router.get("/visits/{visit_id}", response={200: VisitOut, **ERRORS})
def get_visit(request: HttpRequest, visit_id: RecordId):
    return get_for(request.user, _visits(), visit_id)


@router.post("/visits/{visit_id}/check-in", response={200: VisitOut, **WRITE_ERRORS})
def check_in(request: HttpRequest, visit_id: RecordId, payload: CheckInIn):
    """The rep arrived: now, with the place if the device gave it. Once per visit (400
    `already_checked_in`), only by the rep who makes it (400 `not_yours`)."""
    user = request.user
    visit = get_for_action(user, _visits(), visit_id, Action.EDIT)
    services.check_in(
        visit, payload.latitude, payload.longitude, payload.accuracy_m, payload.address, by=user
    )
    return get_for(user, _visits(), visit.pk)


@router.post("/visits/{visit_id}/complete", response={200: VisitOut, **WRITE_ERRORS})
def complete_visit(request: HttpRequest, visit_id: RecordId, payload: CompleteIn):
    """The visit is done: its follow-up (kind `visit`, at the check-in time) is logged as by
    `POST /follow-ups` and linked (`follow_up_id`)."""
    user = request.user
    visit = get_for_action(user, _visits(), visit_id, Action.EDIT)
    content = required(payload.content, "content")
    contacts = None
    if payload.contact_ids is not None:
        contacts = resolve_many(user, Contact, payload.contact_ids, "contact_ids")
    services.complete_visit(
        visit,
        content,
        payload.result,
        payload.next_step,
        payload.next_step_on,
        by=user,
        contacts=contacts,
    )
    return get_for(user, _visits(), visit.pk)


@router.post("/visits/{visit_id}/cancel", response={200: VisitOut, **WRITE_ERRORS})
def cancel_visit(request: HttpRequest, visit_id: RecordId, payload: CancelIn):
    """Call a planned visit off (its rep, or a manager), with an optional reason."""
    user = request.user
    visit = get_for_action(user, _visits(), visit_id, Action.EDIT)
    services.cancel_visit(visit, by=user, reason=payload.reason)
    return get_for(user, _visits(), visit.pk)


# --- Comments ---------------------------------------------------------------------------------


@router.get("/comments", response={200: list[CommentOut], **ERRORS})
@paginate(PagePagination)
def list_comments(request: HttpRequest, filters: Query[CommentFilters]):
    """The comments on one customer or lead (404 if out of scope), newest first."""
    user = request.user
    comments = _comments().visible_to(user)
    if filters.customer is not None:
        customer = get_for(user, Customer, filters.customer)
        comments = comments.filter(customer=customer)
    elif filters.lead is not None:
        lead = get_for(user, Lead, filters.lead)
        comments = comments.filter(lead=lead)
    else:
        raise field_error("customer", _("Choose the customer or lead."), ErrorCode.REQUIRED)
    return comments.order_by("-created_at", "-pk")


@router.post("/comments", response={201: CommentOut, **WRITE_ERRORS})
def add_comment(request: HttpRequest, payload: CommentIn):
    """Comment on a customer or lead; the colleagues it @mentions (among those the caller
    may see) are notified."""
    user = request.user
    require(user, Comment.record_type, Action.CREATE)
    customer, lead = _subjects(request, payload.customer_id, payload.lead_id)
    comment = services.add_comment(by=user, customer=customer, lead=lead, body=payload.body)
    return Status(201, get_for(user, _comments(), comment.pk))


@router.delete("/comments/{comment_id}", response={204: None, **WRITE_ERRORS})
def delete_comment(request: HttpRequest, comment_id: RecordId):
    """Delete your own comment (403 for someone else's)."""
    comment = get_for(request.user, Comment, comment_id)
    services.delete_comment(comment, by=request.user)
    return Status(204, None)
