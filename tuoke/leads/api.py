"""The leads API: leads (list, create with the duplicate flag, read, edit, delete, clean,
convert, assign, transfer) and channels with their costs (parse → service → schema)."""

from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tuoke.core import lists
from tuoke.core.api import (
    ERRORS,
    WRITE_ERRORS,
    PagePagination,
    RecordId,
    Ref,
    Text,
    VersionedPatch,
    custom_object,
    required,
    required_after_fetch,
    resolve,
    sent,
)
from tuoke.core.custom_fields import fields_for_request, visible_values
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.models import Action
from tuoke.core.scope import get_for, get_for_action, require
from tuoke.customers.api import OwnerRef
from tuoke.customers.models import Customer
from tuoke.org.models import User

from . import queries, services
from .models import Channel, ChannelCost, ChannelKind, CleaningKind, Lead, LeadStatus

router = Router(tags=["leads"])

# --- Schemas ----------------------------------------------------------------------------------


class DuplicateFlag(Schema):
    """The lead or customer this lead looked like when it was entered: only its name and
    owner, which anyone may learn."""

    kind: Literal["lead", "customer"]
    name: str = Field(examples=["腾达精密"])
    owner: str = Field(examples=["黄敏"])


class LeadOut(Schema):
    id: int
    display_name: str
    company_name: str = Field(examples=["深圳市腾达精密科技有限公司"])
    short_name: str = Field(examples=["腾达精密"])
    credit_code: str = Field(examples=["91440300MA5DC12345"])
    industry: str = Field(examples=["精密制造"])
    province: str = Field(examples=["广东"])
    city: str = Field(examples=["深圳"])
    contact_name: str = Field(examples=["王强"])
    title: str = Field(examples=["采购经理"])
    mobile: str = Field(description="E.164", examples=["+8613800138000"])
    phone: str = Field(description="Landline, E.164", examples=["+8675586001234"])
    email: str = Field(examples=["wangqiang@tengda.cn"])
    needs: str = Field(examples=["年底前采购 20 台五轴加工中心，预算 300 万"])
    channel: Ref | None
    owner: OwnerRef
    status: LeadStatus
    cleaning_kind: CleaningKind | Literal[""] = Field(description="Set when status is cleaned")
    cleaning_reason: str
    duplicate: DuplicateFlag | None = Field(
        description="Set when the same company or person was there already"
    )
    converted_customer: Ref | None
    converted_at: datetime | None
    custom: dict[str, Any] = Field(
        description="Custom field values by key", json_schema_extra=custom_object("lead")
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_custom(lead: Lead, context: dict[str, Any] | None) -> dict[str, Any]:
        fields = fields_for_request((context or {}).get("request"), "lead")
        return visible_values("lead", lead.custom, fields=fields)

    @staticmethod
    def resolve_channel(lead: Lead) -> dict | None:
        return {"id": lead.channel.pk, "name": lead.channel.name} if lead.channel_id else None

    @staticmethod
    def resolve_duplicate(lead: Lead) -> dict | None:
        record = lead.duplicate_of or lead.duplicate_customer
        if record is None:
            return None
        kind = "lead" if lead.duplicate_of_id else "customer"
        return {"kind": kind, "name": record.display_name, "owner": str(record.owner)}

    @staticmethod
    def resolve_converted_customer(lead: Lead) -> dict | None:
        customer = lead.converted_customer
        return {"id": customer.pk, "name": customer.display_name} if customer else None


class DuplicateOut(Schema):
    kind: Literal["lead", "customer"]
    match: Literal["same", "similar"]
    score: float
    reasons: list[str] = Field(examples=[["same phone"]])
    name: str
    owner: str
    id: int | None = Field(description="Only when the caller may see the record")


class LeadDetail(LeadOut):
    duplicates: list[DuplicateOut] = Field(
        default_factory=list,
        description="Open leads and customers that are (or look like) the same company now",
    )


class LeadFilters(Schema):
    q: Text | None = Field(
        None,
        max_length=100,
        description="Start of the company, short or contact name (any part of the name from "
        "three characters on), pinyin, phone, e-mail or credit code",
    )
    status: LeadStatus | None = None
    channel: RecordId | None = Field(None, description="Channel id")
    owner: RecordId | None = Field(None, description="Owner's user id")
    cleaning_kind: CleaningKind | None = Field(None, description="How cleaned leads were cleaned")
    flagged: bool | None = Field(None, description="True: open leads flagged as duplicates")
    sort: Literal[
        "-created_at", "created_at", "company", "-company", "-updated_at", "updated_at"
    ] = "-created_at"


class LeadFacts(Schema):
    company_name: Text = Field("", max_length=200, examples=["深圳市腾达精密科技有限公司"])
    short_name: Text = Field("", max_length=100, examples=["腾达精密"])
    credit_code: Text = Field("", max_length=40)
    industry: Text = Field("", max_length=50, examples=["精密制造"])
    province: Text = Field("", max_length=30, examples=["广东"])
    city: Text = Field("", max_length=30, examples=["深圳"])
    contact_name: Text = Field("", max_length=50, examples=["王强"])
    title: Text = Field("", max_length=50, examples=["采购经理"])
    mobile: Text = Field("", max_length=40, examples=["138 0013 8000"])
    phone: Text = Field("", max_length=40, examples=["0755-86001234"])
    email: Text = Field("", max_length=254, examples=["wangqiang@tengda.cn"])
    needs: Text = Field("", max_length=5000, examples=["年底前采购 20 台五轴加工中心"])


class LeadCreate(LeadFacts):
    channel_id: RecordId | None = Field(None, examples=[1])
    owner_id: RecordId | None = Field(
        None,
        description="Default: the matching assignment rule's next member, else the caller. "
        "Giving another owner needs `approve` on leads.",
    )
    custom: dict[str, Any] = Field(
        default_factory=dict,
        description="Custom field values by key; required custom fields must be given",
        json_schema_extra=custom_object("lead", enforce_required=True),
    )


class LeadUpdate(VersionedPatch):
    company_name: Text | None = Field(None, max_length=200)
    short_name: Text | None = Field(None, max_length=100)
    credit_code: Text | None = Field(None, max_length=40)
    industry: Text | None = Field(None, max_length=50)
    province: Text | None = Field(None, max_length=30)
    city: Text | None = Field(None, max_length=30)
    contact_name: Text | None = Field(None, max_length=50)
    title: Text | None = Field(None, max_length=50)
    mobile: Text | None = Field(None, max_length=40)
    phone: Text | None = Field(None, max_length=40)
    email: Text | None = Field(None, max_length=254)
    needs: Text | None = Field(None, max_length=5000)
    channel_id: RecordId | None = Field(None, description="null: no channel")
    status: Literal["new", "working"] | None = Field(
        None, description="Only between new and working; see clean and convert"
    )
    custom: dict[str, Any] | None = Field(
        None,
        description="Only the keys sent change; a key set to null clears it",
        json_schema_extra=custom_object("lead"),
    )


class CleanIn(Schema):
    kind: CleaningKind | None = Field(None, examples=["duplicate"])
    reason: Text | None = Field(None, max_length=500, examples=["与线索 #12 是同一家公司"])
    version: int | None = Field(None, ge=0, le=2**31 - 1, description="Optional version check")

    model_config = {"json_schema_extra": required_after_fetch("kind", "reason")}


class UncleanIn(Schema):
    version: int | None = Field(None, ge=0, le=2**31 - 1, description="Optional version check")


class ConvertCustomer(Schema):
    legal_name: Text = Field("", max_length=200, examples=["深圳市腾达精密科技有限公司"])
    short_name: Text = Field("", max_length=100, examples=["腾达精密"])
    credit_code: Text = Field("", max_length=40)
    nature: Text = ""
    size: Text = ""
    industry: Text = Field("", max_length=50)
    province: Text = Field("", max_length=30)
    city: Text = Field("", max_length=30)
    website: Text = ""
    note: Text = ""


class ConvertContact(Schema):
    name: Text = Field("", max_length=50, examples=["王强"], description="Empty: no contact")
    title: Text = Field("", max_length=50)
    mobile: Text = Field("", max_length=40)
    phone: Text = Field("", max_length=40)
    email: Text = Field("", max_length=254)


class ConvertOpportunity(Schema):
    """The opportunity to open with the conversion; what is left out is taken from the lead
    (title from the first line of its needs, amount from a budget they mention)."""

    title: Text | None = Field(
        None,
        min_length=1,
        max_length=200,
        examples=["MES 一期"],
        description="Default: from the needs",
    )
    amount: Decimal | None = Field(
        None,
        ge=0,
        max_digits=16,
        decimal_places=2,
        examples=["1360000.00"],
        description="Default: the budget the needs mention; null: none",
    )
    expected_close_date: date | None = Field(None, examples=["2026-12-20"])


class ConvertIn(Schema):
    customer_id: RecordId | None = Field(
        None, description="Attach to this existing customer (edit needed) instead of a new one"
    )
    customer: ConvertCustomer | None = Field(
        None, description="Facts of the new customer; default: taken from the lead"
    )
    contact: ConvertContact | None = Field(
        None, description="The contact to create; default: taken from the lead"
    )
    allow_similar: bool = Field(
        False, description="True after the user checked the similar customers he was shown"
    )
    opportunity: ConvertOpportunity | None = Field(
        None,
        description=(
            "Also open an opportunity (needs the right to create opportunities); {} takes "
            "everything from the lead; leave out for none. Errors name `opportunity.…`"
        ),
        examples=[
            {"title": "MES 一期", "amount": "1360000.00", "expected_close_date": "2026-12-20"}
        ],
    )


class ConversionOut(Schema):
    lead: LeadOut
    customer: Ref
    contact: Ref | None
    created: bool = Field(description="True when a new customer was created")
    opportunity: Ref | None = Field(
        None, description="The opportunity opened with the conversion, when one was asked for"
    )


class AssignIn(Schema):
    lead_ids: list[RecordId] = Field(min_length=1, max_length=1000, examples=[[12, 13]])
    to_user_id: RecordId
    reason: Text = Field("", max_length=200, examples=["华东展会线索"])


class AssignOut(Schema):
    assigned: int


class TransferIn(Schema):
    lead_ids: list[RecordId] = Field(min_length=1, max_length=1000, examples=[[12, 13]])
    to_user_id: RecordId = Field(examples=[7])
    reason: Text = Field(min_length=1, max_length=200, examples=["张伟调往华南，线索交接给刘洋"])


class TransferOut(Schema):
    transferred: int = Field(description="Leads whose owner changed", examples=[2])


class ChannelOut(Schema):
    id: int
    name: str = Field(examples=["官网表单"])
    kind: ChannelKind
    active: bool
    note: str
    version: int


class ChannelIn(Schema):
    name: Text = Field(min_length=1, max_length=100, examples=["2026 上海工博会"])
    kind: ChannelKind = Field(examples=["event"])
    active: bool = True
    note: Text = ""


class ChannelUpdate(VersionedPatch):
    name: Text | None = Field(None, max_length=100)
    kind: ChannelKind | None = None
    active: bool | None = None
    note: Text | None = None


class CostOut(Schema):
    id: int
    period_start: date
    period_end: date
    amount: Decimal = Field(description="CNY", examples=["12000.00"])
    note: str
    version: int


class CostIn(Schema):
    period_start: date | None = Field(None, examples=["2026-10-01"])
    period_end: date | None = Field(None, examples=["2026-10-31"])
    amount: Decimal | None = Field(
        None, ge=0, max_digits=14, decimal_places=2, description="CNY", examples=["12000.00"]
    )
    note: Text = Field("", max_length=200, examples=["百度推广 10 月"])

    model_config = {
        "json_schema_extra": required_after_fetch("period_start", "period_end", "amount")
    }


# --- Helpers ----------------------------------------------------------------------------------

SORTS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "company": "pinyin_full",
}


def _leads():
    return Lead.objects.select_related(
        "owner",
        "channel",
        "converted_customer",
        "duplicate_of__owner",
        "duplicate_customer__owner",
    )


def _detail(request: HttpRequest, lead: Lead) -> Lead:
    report = services.duplicates_of(lead, user=request.user) if lead.is_open else None
    lead.duplicates = [
        {
            "kind": c.kind,
            "match": c.match.kind,
            "score": c.match.score,
            "reasons": [str(r) for r in c.match.reasons],
            "name": c.name,
            "owner": str(c.owner),
            "id": c.record.pk if c.visible else None,
        }
        for c in (report.candidates if report else [])
    ]
    return lead


# Service field → the name of the input it came from.
INPUT_NAMES = {
    "channel": "channel_id",
    "owner": "owner_id",
    "customer": "customer_id",
    "to": "to_user_id",
}


@contextmanager
def _fields_named(names: dict[str, str]):
    """Errors of a service named after the API's input (``channel`` → ``channel_id``)."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        renamed = {names.get(field, field): errors for field, errors in exc.error_dict.items()}
        raise ValidationError(renamed) from exc


def _assignee(user: User, pk: int | None, field_name: str) -> User | None:
    """The user a lead is given to: the caller himself, or someone he may hand leads to."""
    if pk is None:
        return None
    if pk == user.pk:
        return user
    found = services.assignable_users(user).filter(pk=pk).first()
    if found is None:
        raise field_error(
            field_name, _("You cannot give leads to this person."), ErrorCode.FORBIDDEN
        )
    return found


def _facts(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k in LeadFacts.model_fields or k == "custom"}


# --- Leads ------------------------------------------------------------------------------------


@router.get("/leads", response={200: list[LeadOut], **ERRORS})
@paginate(PagePagination)
def list_leads(request: HttpRequest, filters: Query[LeadFilters]):
    """The leads within the caller's data scope; filters and one sort key (`company` sorts
    by pinyin)."""
    leads = _leads().visible_to(request.user)
    if filters.q:
        leads = queries.search(leads, filters.q)
    if filters.status:
        leads = leads.filter(status=filters.status)
    if filters.channel is not None:
        leads = leads.filter(channel_id=filters.channel)
    if filters.owner is not None:
        leads = leads.filter(owner_id=filters.owner)
    if filters.cleaning_kind:
        leads = leads.filter(cleaning_kind=filters.cleaning_kind)
    if filters.flagged is not None:
        leads = queries.flagged(leads, filters.flagged)
    _sort, order = lists.ordering(filters.sort, SORTS, default="-created_at")
    return leads.order_by(*order)


@router.post("/leads", response={201: LeadDetail, **WRITE_ERRORS})
def create_lead(request: HttpRequest, payload: LeadCreate):
    """Record a lead. The same company or person among the open leads or the customers does
    not refuse it: the answer's `duplicate` and `duplicates` show what it looks like, so it
    can be cleaned as a duplicate."""
    require(request.user, "lead", Action.CREATE)
    data = payload.model_dump()
    channel = resolve(request.user, Channel, data.pop("channel_id"), "channel_id")
    owner = _assignee(request.user, data.pop("owner_id"), "owner_id")
    with _fields_named(INPUT_NAMES):
        lead = services.create_lead(by=request.user, owner=owner, channel=channel, **_facts(data))
    return Status(201, _detail(request, get_for(request.user, _leads(), lead.pk)))


@router.post("/leads/assign", response={200: AssignOut, **WRITE_ERRORS})
def assign_leads(request: HttpRequest, payload: AssignIn):
    """Hand leads to a rep (needs `approve` on leads, and the rep within that scope); each
    move is audited."""
    wanted = set(payload.lead_ids)
    leads = list(Lead.objects.visible_to(request.user, Action.APPROVE).filter(pk__in=wanted))
    missing = wanted - {lead.pk for lead in leads}
    if missing:
        # 403 for leads he sees but may not hand out, 404 when one is out of his sight.
        get_for_action(request.user, Lead, min(missing), Action.APPROVE)
    to = _assignee(request.user, payload.to_user_id, "to_user_id")
    moved = services.assign_leads(leads, to=to, by=request.user, reason=payload.reason)
    return {"assigned": moved}


@router.post("/leads/transfer", response={200: TransferOut, **WRITE_ERRORS})
def transfer_leads(request: HttpRequest, payload: TransferIn):
    """Hand leads over to another user with a reason, e.g. when a rep leaves: a manager's
    action (`approve` on leads, the new owner within that scope). All or nothing: a lead out
    of the caller's sight is 404, one he sees but may not hand out 403, and then no lead
    changes owner. Each move is audited with the reason."""
    wanted = set(payload.lead_ids)
    leads = list(Lead.objects.visible_to(request.user, Action.APPROVE).filter(pk__in=wanted))
    missing = wanted - {lead.pk for lead in leads}
    if missing:
        # 403 for leads he sees but may not hand out, 404 when one is out of his sight.
        get_for_action(request.user, Lead, min(missing), Action.APPROVE)
    to = _assignee(request.user, payload.to_user_id, "to_user_id")
    with _fields_named(INPUT_NAMES):
        moved = services.transfer_leads(leads, to=to, reason=payload.reason, by=request.user)
    return {"transferred": moved}


@router.get("/leads/{lead_id}", response={200: LeadDetail, **ERRORS})
def get_lead(request: HttpRequest, lead_id: RecordId):
    """One lead, with the open leads and customers it looks like now."""
    return _detail(request, get_for(request.user, _leads(), lead_id))


@router.patch("/leads/{lead_id}", response={200: LeadDetail, **WRITE_ERRORS})
def update_lead(request: HttpRequest, lead_id: RecordId, payload: LeadUpdate):
    """Change the facts sent; `version` must be the one you read (409 otherwise)."""
    lead = get_for_action(request.user, _leads(), lead_id, Action.EDIT)
    changes = sent(payload, nullable={"custom", "channel_id"})
    if "channel_id" in changes:
        changes["channel"] = resolve(request.user, Channel, changes.pop("channel_id"), "channel_id")
    with _fields_named(INPUT_NAMES):
        services.update_lead(lead, by=request.user, expected_version=payload.version, **changes)
    return _detail(request, get_for(request.user, _leads(), lead_id))


@router.delete("/leads/{lead_id}", response={204: None, **WRITE_ERRORS})
def delete_lead(request: HttpRequest, lead_id: RecordId):
    """Move the lead to the recycle bin (restorable)."""
    lead = get_for_action(request.user, Lead, lead_id, Action.DELETE)
    services.delete_lead(lead, by=request.user)
    return Status(204, None)


@router.post("/leads/{lead_id}/clean", response={200: LeadDetail, **WRITE_ERRORS})
def clean_lead(request: HttpRequest, lead_id: RecordId, payload: CleanIn):
    """Take the lead out of the work as `invalid`, `duplicate` or `junk`, with a reason; it
    stays, filterable by `cleaning_kind`."""
    lead = get_for_action(request.user, _leads(), lead_id, Action.EDIT)
    services.clean_lead(
        lead,
        kind=required(payload.kind, "kind"),
        reason=required(payload.reason, "reason"),
        by=request.user,
        expected_version=payload.version,
    )
    return _detail(request, get_for(request.user, _leads(), lead_id))


@router.post("/leads/{lead_id}/unclean", response={200: LeadDetail, **WRITE_ERRORS})
def unclean_lead(request: HttpRequest, lead_id: RecordId, payload: UncleanIn):
    """Bring a cleaned lead back into the work, as new."""
    lead = get_for_action(request.user, _leads(), lead_id, Action.EDIT)
    services.unclean_lead(lead, by=request.user, expected_version=payload.version)
    return _detail(request, get_for(request.user, _leads(), lead_id))


@router.post("/leads/{lead_id}/convert", response={200: ConversionOut, **WRITE_ERRORS})
def convert_lead(request: HttpRequest, lead_id: RecordId, payload: ConvertIn):
    """Convert the lead into a new customer and contact (the customers' duplicate check
    applies: 400 `duplicate`, or `similar` unless `allow_similar`), or attach it to an
    existing customer; with `opportunity`, open an opportunity too (its id comes back).
    Errors name `customer.…`, `contact.…` and `opportunity.…` fields, and undo it all."""
    lead = get_for_action(request.user, _leads(), lead_id, Action.EDIT)
    customer = resolve(request.user, Customer, payload.customer_id, "customer_id")
    opportunity = None
    if payload.opportunity is not None:
        opportunity = payload.opportunity.model_dump(exclude_unset=True)
        if opportunity.get("title") is None:
            opportunity.pop("title", None)  # null: the title from the needs
    with _fields_named(INPUT_NAMES):
        result = services.convert_lead(
            lead,
            by=request.user,
            customer=customer,
            customer_facts=payload.customer.model_dump() if payload.customer else None,
            contact_facts=payload.contact.model_dump() if payload.contact else None,
            allow_similar=payload.allow_similar,
            opportunity=opportunity,
        )
    contact = result.contact
    opened = result.opportunity
    return {
        "lead": get_for(request.user, _leads(), lead_id),
        "customer": {"id": result.customer.pk, "name": result.customer.display_name},
        "contact": {"id": contact.pk, "name": contact.name} if contact else None,
        "created": result.created,
        "opportunity": {"id": opened.pk, "name": opened.title} if opened else None,
    }


# --- Channels ---------------------------------------------------------------------------------


@router.get("/channels", response={200: list[ChannelOut], **ERRORS})
def list_channels(request: HttpRequest, active: bool | None = None):
    """Every channel (configuration everyone may read), active ones first."""
    channels = Channel.objects.visible_to(request.user)
    if active is not None:
        channels = channels.filter(active=active)
    return list(channels)


@router.post("/channels", response={201: ChannelOut, **WRITE_ERRORS})
def create_channel(request: HttpRequest, payload: ChannelIn):
    require(request.user, "channel", Action.CREATE)
    return Status(201, services.create_channel(by=request.user, **payload.model_dump()))


@router.patch("/channels/{channel_id}", response={200: ChannelOut, **WRITE_ERRORS})
def update_channel(request: HttpRequest, channel_id: RecordId, payload: ChannelUpdate):
    channel = get_for_action(request.user, Channel, channel_id, Action.EDIT)
    return services.update_channel(
        channel, by=request.user, expected_version=payload.version, **sent(payload)
    )


@router.delete("/channels/{channel_id}", response={204: None, **WRITE_ERRORS})
def delete_channel(request: HttpRequest, channel_id: RecordId):
    """Move the channel to the recycle bin; its leads and costs keep pointing at it."""
    channel = get_for_action(request.user, Channel, channel_id, Action.DELETE)
    services.delete_channel(channel, by=request.user)
    return Status(204, None)


@router.get("/channels/{channel_id}/costs", response={200: list[CostOut], **ERRORS})
def list_costs(request: HttpRequest, channel_id: RecordId):
    """The channel's cost entries, newest period first (needs `view` on channel costs)."""
    channel = get_for(request.user, Channel, channel_id)
    require(request.user, "channel_cost", Action.VIEW)
    return list(ChannelCost.objects.visible_to(request.user).filter(channel=channel))


@router.post("/channels/{channel_id}/costs", response={201: CostOut, **WRITE_ERRORS})
def add_cost(request: HttpRequest, channel_id: RecordId, payload: CostIn):
    """Record what the channel cost over a period; periods of a channel may not overlap."""
    channel = get_for(request.user, Channel, channel_id)
    require(request.user, "channel_cost", Action.CREATE)
    cost = services.add_channel_cost(
        channel,
        by=request.user,
        period_start=required(payload.period_start, "period_start"),
        period_end=required(payload.period_end, "period_end"),
        amount=required(payload.amount, "amount"),
        note=payload.note,
    )
    return Status(201, cost)
