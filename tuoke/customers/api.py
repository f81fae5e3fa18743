"""The customers API: customers with their contacts, the duplicate check, merge and transfer
(parse → service → schema)."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

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
    resolve_many,
    sent,
)
from tuoke.core.custom_fields import fields_for_request, visible_values
from tuoke.core.models import Action
from tuoke.core.scope import get_for, get_for_action, may_act_on, require
from tuoke.org.models import User

from . import queries, services
from .models import AccessRequest, Contact, Customer, LifecycleStatus, Tag

router = Router(tags=["customers"])

# --- Schemas ----------------------------------------------------------------------------------


class OwnerRef(Schema):
    id: int
    username: str
    display_name: str


class ContactOut(Schema):
    id: int
    name: str = Field(examples=["王强"])
    mobile: str = Field(description="E.164", examples=["+8613800138000"])
    phone: str = Field(description="Landline, E.164", examples=["+8675586001234"])
    email: str
    title: str
    is_key_person: bool
    custom: dict[str, Any] = Field(
        description="Custom field values by key", json_schema_extra=custom_object("contact")
    )
    version: int

    @staticmethod
    def resolve_custom(contact: Contact, context: dict[str, Any] | None) -> dict[str, Any]:
        fields = fields_for_request((context or {}).get("request"), "contact")
        return visible_values("contact", contact.custom, fields=fields)


class ContactIn(Schema):
    name: Text = Field(min_length=1, max_length=50, examples=["王强"])
    mobile: Text = Field("", examples=["138 0013 8000"])
    phone: Text = Field("", examples=["0755-86001234"])
    email: Text = ""
    title: Text = Field("", examples=["采购经理"])
    is_key_person: bool = False
    custom: dict[str, Any] = Field(
        default_factory=dict,
        description="Custom field values by key; required custom fields must be given",
        json_schema_extra=custom_object("contact", enforce_required=True),
    )


class CustomerOut(Schema):
    id: int
    display_name: str
    legal_name: str = Field(examples=["深圳市腾达精密科技有限公司"])
    short_name: str = Field(examples=["腾达精密"])
    credit_code: str = Field(examples=["91440300MA5DC12345"])
    nature: str
    size: str
    industry: str
    province: str
    city: str
    funding_stage: str
    website: str
    country: str
    currency: str
    note: str
    lifecycle_status: LifecycleStatus
    tier: str
    owner: OwnerRef
    tags: list[Ref]
    last_follow_up_at: datetime | None
    custom: dict[str, Any] = Field(
        description="Custom field values by key", json_schema_extra=custom_object("customer")
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_custom(customer: Customer, context: dict[str, Any] | None) -> dict[str, Any]:
        fields = fields_for_request((context or {}).get("request"), "customer")
        return visible_values("customer", customer.custom, fields=fields)


class CustomerDetail(CustomerOut):
    contacts: list[ContactOut]


class CustomerFilters(Schema):
    q: Text | None = Field(
        None, max_length=100, description="Name, short name, pinyin initials or credit code"
    )
    owner: RecordId | None = Field(None, description="Owner's user id")
    lifecycle_status: LifecycleStatus | None = None
    tag: RecordId | None = None
    sort: Literal["-updated_at", "updated_at", "short_name", "-short_name", "-created_at"] = (
        "-updated_at"
    )


class CustomerFacts(Schema):
    legal_name: Text = Field("", max_length=200, examples=["深圳市腾达精密科技有限公司"])
    short_name: Text = Field("", max_length=100, examples=["腾达精密"])
    credit_code: Text = Field("", max_length=40)
    nature: Text = ""
    size: Text = ""
    industry: Text = Field("", max_length=50, examples=["精密制造"])
    province: Text = Field("", max_length=30, examples=["广东"])
    city: Text = Field("", max_length=30, examples=["深圳"])
    funding_stage: Text = ""
    website: Text = ""
    country: Text = Field("CN", min_length=2, max_length=2)
    currency: Text = Field("CNY", min_length=3, max_length=3)
    note: Text = ""


class CustomerCreate(CustomerFacts):
    owner_id: RecordId | None = Field(None, description="Default: the caller")
    tag_ids: list[RecordId] = Field(default_factory=list)
    contacts: list[ContactIn] = Field(default_factory=list)
    custom: dict[str, Any] = Field(
        default_factory=dict,
        description="Custom field values by key; required custom fields must be given",
        json_schema_extra=custom_object("customer", enforce_required=True),
    )
    allow_similar: bool = Field(
        False, description="True after the user checked the similar customers he was shown"
    )


class CustomerUpdate(VersionedPatch):
    legal_name: Text | None = None
    short_name: Text | None = None
    credit_code: Text | None = None
    nature: Text | None = None
    size: Text | None = None
    industry: Text | None = None
    province: Text | None = None
    city: Text | None = None
    funding_stage: Text | None = None
    website: Text | None = None
    country: Text | None = None
    currency: Text | None = None
    note: Text | None = None
    tag_ids: list[RecordId] | None = None
    custom: dict[str, Any] | None = Field(
        None,
        description="Only the keys sent change; a key set to null clears it",
        json_schema_extra=custom_object("customer"),
    )
    allow_similar: bool = False


class DuplicateQuery(Schema):
    legal_name: Text = ""
    short_name: Text = ""
    credit_code: Text = ""
    phones: list[Text] = Field(default_factory=list)
    emails: list[Text] = Field(default_factory=list)
    exclude_id: RecordId | None = None


class DuplicateOut(Schema):
    kind: Literal["same", "similar"]
    score: float
    reasons: list[str]
    name: str
    owner: str
    id: int | None = Field(description="Only when the caller may see the customer")
    access_token: str | None = Field(
        None,
        description="For a customer the caller may not see: send it to "
        "POST /access-requests to ask the owner to share the customer",
    )


class DuplicatesOut(Schema):
    blocking: bool = Field(description="True when a customer is the same company")
    candidates: list[DuplicateOut]


class MergeIn(Schema):
    other_id: RecordId | None = Field(None, description="The customer folded into this one")

    model_config = {"json_schema_extra": required_after_fetch("other_id")}


class NewContact(ContactIn):
    name: Text | None = Field(None, min_length=1, max_length=50, examples=["王强"])

    model_config = {"json_schema_extra": required_after_fetch("name")}


class TransferIn(Schema):
    customer_ids: list[RecordId] = Field(min_length=1, max_length=1000)
    to_user_id: RecordId
    reason: Text = Field(min_length=1, max_length=200, examples=["张伟离职，客户交接给刘洋"])


class TransferOut(Schema):
    transferred: int


# --- Helpers ----------------------------------------------------------------------------------


def _customers():
    return Customer.objects.select_related("owner").prefetch_related("tags")


# --- Customers --------------------------------------------------------------------------------


@router.get("/customers", response={200: list[CustomerOut], **ERRORS})
@paginate(PagePagination)
def list_customers(request: HttpRequest, filters: Query[CustomerFilters]):
    """The customers within the caller's data scope; filters and one sort key."""
    customers = _customers().visible_to(request.user)
    if filters.q:
        customers = queries.search(customers, filters.q)
    if filters.owner is not None:
        customers = customers.filter(owner_id=filters.owner)
    if filters.lifecycle_status:
        customers = customers.filter(lifecycle_status=filters.lifecycle_status)
    if filters.tag is not None:
        customers = customers.filter(tags__id=filters.tag)
    # The tie-break follows the sort, so one index (field, id) serves both directions.
    return customers.order_by(filters.sort, "-pk" if filters.sort.startswith("-") else "pk")


@router.post("/customers/duplicates", response={200: DuplicatesOut, **ERRORS})
def check_duplicates(request: HttpRequest, payload: DuplicateQuery):
    """Customers that are the same company or look like it. Customers outside the caller's
    scope show only their name and owner."""
    exclude = None
    if payload.exclude_id is not None:
        exclude = get_for(request.user, Customer, payload.exclude_id)
    report = services.find_duplicates(
        user=request.user,
        legal_name=payload.legal_name,
        short_name=payload.short_name,
        credit_code=payload.credit_code,
        phones=payload.phones,
        emails=payload.emails,
        exclude=exclude,
    )
    candidates = [
        {
            "kind": c.match.kind,
            "score": c.match.score,
            "reasons": [str(r) for r in c.match.reasons],
            "name": c.customer.display_name,
            "owner": str(c.customer.owner),
            "id": c.customer.pk if c.visible else None,
            "access_token": None if c.visible else services.access_token(request.user, c.customer),
        }
        for c in [*report.same, *report.similar]
    ]
    return {"blocking": report.blocking, "candidates": candidates}


@router.post("/customers/transfer", response={200: TransferOut, **WRITE_ERRORS})
def transfer_customers(request: HttpRequest, payload: TransferIn):
    """Hand customers over to another user, with a reason (audited). A manager's action:
    needs `approve` on customers, and edit on each of them."""
    wanted = set(payload.customer_ids)
    customers = list(Customer.objects.visible_to(request.user, Action.EDIT).filter(pk__in=wanted))
    missing = wanted - {c.pk for c in customers}
    if missing:
        # 403 for customers he sees but may not change, 404 when one is out of his sight.
        get_for_action(request.user, Customer, min(missing), Action.EDIT)
    to = resolve(request.user, User, payload.to_user_id, "to_user_id")
    moved = services.transfer_customers(customers, to=to, reason=payload.reason, by=request.user)
    return {"transferred": moved}


@router.get("/customers/{customer_id}", response={200: CustomerDetail, **ERRORS})
def get_customer(request: HttpRequest, customer_id: RecordId):
    return get_for(request.user, _customers(), customer_id)


@router.post("/customers", response={201: CustomerDetail, **WRITE_ERRORS})
def create_customer(request: HttpRequest, payload: CustomerCreate):
    """Create a customer with its first contacts; the same company is refused (400, code
    `duplicate`), similar names too (code `similar`) unless `allow_similar` is true."""
    require(request.user, "customer", Action.CREATE)
    data = payload.model_dump()
    owner = resolve(request.user, User, data.pop("owner_id"), "owner_id") or request.user
    tags = resolve_many(request.user, Tag, data.pop("tag_ids"), "tag_ids")
    customer = services.create_customer(by=request.user, owner=owner, tags=tags, **data)
    return Status(201, customer)


@router.patch("/customers/{customer_id}", response={200: CustomerDetail, **WRITE_ERRORS})
def update_customer(request: HttpRequest, customer_id: RecordId, payload: CustomerUpdate):
    """Change the facts sent; `version` must be the one you read."""
    customer = get_for_action(request.user, _customers(), customer_id, Action.EDIT)
    changes = sent(payload, nullable={"custom"})
    changes.pop("allow_similar", None)
    if "tag_ids" in changes:
        changes["tags"] = resolve_many(request.user, Tag, changes.pop("tag_ids"), "tag_ids")
    services.update_customer(
        customer,
        by=request.user,
        expected_version=payload.version,
        allow_similar=payload.allow_similar,
        **changes,
    )
    return get_for(request.user, _customers(), customer_id)


@router.delete("/customers/{customer_id}", response={204: None, **WRITE_ERRORS})
def delete_customer(request: HttpRequest, customer_id: RecordId):
    """Move the customer to the recycle bin (restorable)."""
    customer = get_for_action(request.user, Customer, customer_id, Action.DELETE)
    services.delete_customer(customer, by=request.user)
    return Status(204, None)


@router.post("/customers/{customer_id}/merge", response={200: CustomerDetail, **WRITE_ERRORS})
def merge_customer(request: HttpRequest, customer_id: RecordId, payload: MergeIn):
    """Fold another customer into this one: its contacts and every related record move here,
    it goes to the recycle bin. Needs edit on this one and delete on the other."""
    keep = get_for_action(request.user, Customer, customer_id, Action.EDIT)
    other_id = required(payload.other_id, "other_id")
    other = get_for_action(request.user, Customer, other_id, Action.DELETE)
    services.merge_customers(keep=keep, merge=other, by=request.user)
    return get_for(request.user, _customers(), customer_id)


# --- Contacts ---------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/contacts", response={200: list[ContactOut], **ERRORS})
def list_contacts(request: HttpRequest, customer_id: RecordId):
    customer = get_for(request.user, Customer, customer_id)
    return list(customer.contacts.all())


@router.post("/customers/{customer_id}/contacts", response={201: ContactOut, **WRITE_ERRORS})
def create_contact(request: HttpRequest, customer_id: RecordId, payload: NewContact):
    customer = get_for_action(request.user, Customer, customer_id, Action.EDIT)
    required(payload.name, "name")
    contact = services.create_contact(customer, by=request.user, **payload.model_dump())
    return Status(201, contact)


class ContactUpdate(VersionedPatch):
    name: Text | None = None
    mobile: Text | None = None
    phone: Text | None = None
    email: Text | None = None
    title: Text | None = None
    is_key_person: bool | None = None
    custom: dict[str, Any] | None = Field(
        None,
        description="Only the keys sent change; a key set to null clears it",
        json_schema_extra=custom_object("contact"),
    )


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **WRITE_ERRORS})
def update_contact(request: HttpRequest, contact_id: RecordId, payload: ContactUpdate):
    contact = get_for_action(request.user, Contact, contact_id, Action.EDIT)
    return services.update_contact(
        contact,
        by=request.user,
        expected_version=payload.version,
        **sent(payload, nullable={"custom"}),
    )


@router.delete("/contacts/{contact_id}", response={204: None, **WRITE_ERRORS})
def delete_contact(request: HttpRequest, contact_id: RecordId):
    contact = get_for_action(request.user, Contact, contact_id, Action.DELETE)
    services.delete_contact(contact, by=request.user)
    return Status(204, None)


# --- Access requests --------------------------------------------------------------------------


class AccessRequestIn(Schema):
    access_token: Text = Field(
        min_length=1, description="From a candidate of POST /customers/duplicates"
    )
    access: Literal["read", "edit"] = "read"
    message: Text = Field("", max_length=500, examples=["这家客户我在展会上认识了采购经理"])


class AccessRequestOut(Schema):
    id: int
    customer_name: str = Field(description="The customer's name (all the requester may know)")
    customer_id: int | None = Field(description="Only when the caller may see the customer")
    owner: str
    requester: OwnerRef
    access: Literal["read", "edit"]
    message: str
    status: Literal["pending", "granted", "declined"]
    created_at: datetime
    decided_at: datetime | None
    decision_note: str

    @staticmethod
    def resolve_customer_name(entry: AccessRequest) -> str:
        return entry.customer.display_name

    @staticmethod
    def resolve_owner(entry: AccessRequest) -> str:
        return str(entry.customer.owner)

    @staticmethod
    def resolve_customer_id(entry: AccessRequest, context: dict[str, Any]) -> int | None:
        visible = getattr(entry, "customer_visible", None)  # annotated on lists
        if visible is None:
            visible = may_act_on(context["request"].user, entry.customer, Action.VIEW)
        return entry.customer_id if visible else None


class AccessDecisionIn(Schema):
    decision: Literal["grant", "decline"] | None = None
    access: Literal["read", "edit"] | None = Field(
        None, description="On grant: the access given (default: the one asked for)"
    )
    note: Text = Field("", max_length=500)

    model_config = {"json_schema_extra": required_after_fetch("decision")}


@router.get("/access-requests", response={200: list[AccessRequestOut], **ERRORS})
@paginate(PagePagination)
def list_access_requests(request: HttpRequest, box: Literal["mine", "to_decide"] = "to_decide"):
    """`to_decide`: pending requests on customers the caller may share (he may edit them);
    `mine`: the caller's own requests with their answers."""
    if box == "mine":
        entries = services.requests_of(request.user)
    else:
        entries = services.requests_to_decide(request.user)
    return entries.select_related("customer", "customer__owner", "requester")


@router.post("/access-requests", response={201: AccessRequestOut, **WRITE_ERRORS})
def request_access(request: HttpRequest, payload: AccessRequestIn):
    """Ask the owner of a customer the duplicate check named (without its id) to share it."""
    customer = services.customer_for_access_token(request.user, payload.access_token)
    entry = services.request_access(
        customer, by=request.user, access=payload.access, message=payload.message
    )
    return Status(201, entry)


@router.post(
    "/access-requests/{request_id}/decide",
    response={200: AccessRequestOut, **WRITE_ERRORS},
)
def decide_access_request(request: HttpRequest, request_id: RecordId, payload: AccessDecisionIn):
    """Grant (share the customer with the requester as collaborator) or decline; for whoever
    may edit the customer."""
    entry = services.request_to_decide(request.user, request_id)
    if required(payload.decision, "decision") == "grant":
        entry = services.grant_access_request(
            entry, by=request.user, access=payload.access, note=payload.note
        )
    else:
        entry = services.decline_access_request(entry, by=request.user, note=payload.note)
    return entry
