"""The org API: the current user, users, org units and roles (parse → service → schema)."""

from datetime import datetime
from typing import Literal

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import field_validator

from tuoke.core.api import (
    ERRORS,
    WRITE_ERRORS,
    PagePagination,
    PersonRef,
    RecordId,
    Ref,
    ScopeName,
    Text,
    VersionedPatch,
    required,
    required_after_fetch,
    resolve,
    resolve_many,
    scope_name,
    scope_value,
    sent,
)
from tuoke.core.errors import ErrorCode, field_error, fields_renamed
from tuoke.core.models import Action, Scope
from tuoke.core.scope import get_for, get_for_action, record_types, require, scope_of

from . import handover, services
from .models import OrgUnit, Role, User

router = Router()

ActionName = Literal[
    "view", "create", "edit", "delete", "export", "import", "approve", "administer"
]

# --- Schemas ----------------------------------------------------------------------------------


class UnitRef(Ref):
    pass


class GrantSchema(Schema):
    record_type: str = Field(examples=["user"])
    action: ActionName = Field(examples=["view"])
    scope: ScopeName = Field(
        examples=["unit"],
        description="none, own (his own records), unit, subtree (unit and below) or all",
    )

    @field_validator("record_type")
    @classmethod
    def _known_record_type(cls, value: str) -> str:
        if value not in record_types():
            raise ValueError(_("Unknown record type: %s") % value)
        return value


class UserOut(Schema):
    id: int
    username: str = Field(examples=["rep_east1"])
    display_name: str = Field(examples=["张伟"])
    email: str
    mobile: str
    title: str = Field(examples=["销售代表"])
    language: str = Field(description="zh-hans, en, or empty for the browser's language")
    is_active: bool
    unit: UnitRef | None
    roles: list[Ref]
    version: int
    date_joined: datetime
    last_login: datetime | None
    updated_at: datetime


class MeOut(UserOut):
    grants: list[GrantSchema] = Field(
        description="His effective grants: the widest scope over all his roles"
    )


class UserFilters(Schema):
    unit: RecordId | None = Field(None, description="Only members of this unit (id)")
    is_active: bool | None = None
    q: Text | None = Field(
        None, max_length=100, description="Search username, name, e-mail, mobile"
    )
    sort: Literal[
        "username", "-username", "display_name", "-display_name", "date_joined", "-date_joined"
    ] = "username"


class UserCreate(Schema):
    username: Text = Field(min_length=1, max_length=150, examples=["rep_east3"])
    display_name: Text = Field(min_length=1, max_length=50, examples=["钱进"])
    email: Text = Field("", examples=["rep_east3@example.com"])
    mobile: Text = ""
    title: Text = ""
    unit_id: RecordId | None = Field(None, examples=[3])
    role_ids: list[RecordId] = Field(default_factory=list, examples=[[5]])


class UserUpdate(VersionedPatch):
    username: Text | None = None
    display_name: Text | None = None
    email: Text | None = None
    mobile: Text | None = None
    title: Text | None = None
    language: Literal["zh-hans", "en", ""] | None = None
    unit_id: RecordId | None = None
    role_ids: list[RecordId] | None = None


class UnitOut(Schema):
    id: int
    name: str = Field(examples=["华东销售组"])
    parent: UnitRef | None
    manager: PersonRef | None
    depth: int
    sort_order: int
    version: int
    updated_at: datetime


class UnitCreate(Schema):
    name: Text = Field(min_length=1, max_length=100, examples=["华北销售组"])
    parent_id: RecordId | None = Field(None, examples=[2])
    manager_id: RecordId | None = None


class UnitUpdate(VersionedPatch):
    name: Text | None = None
    parent_id: RecordId | None = None
    manager_id: RecordId | None = None
    sort_order: int | None = Field(None, ge=0, le=2_147_483_647)


class RoleOut(Schema):
    id: int
    name: str = Field(examples=["销售代表"])
    description: str
    version: int
    updated_at: datetime


class RoleDetailOut(RoleOut):
    grants: list[GrantSchema]


class RoleCreate(Schema):
    name: Text = Field(min_length=1, max_length=60, examples=["区域经理"])
    description: Text = ""
    grants: list[GrantSchema] = Field(default_factory=list)


class RoleUpdate(VersionedPatch):
    name: Text | None = None
    description: Text | None = None
    grants: list[GrantSchema] | None = Field(
        None, description="The complete new list; grants left out are removed"
    )


# --- Converters -------------------------------------------------------------------------------


def _grant_dict(grants: list[GrantSchema]) -> dict[tuple[str, str], int]:
    result: dict[tuple[str, str], int] = {}
    for i, grant in enumerate(grants):
        key = (grant.record_type, grant.action)
        if key in result:
            raise field_error(
                f"grants.{i}",
                _("This record type and action are already in the list."),
                ErrorCode.DUPLICATE,
            )
        result[key] = scope_value(grant.scope)
    return result


def _grant_list(grants: dict[tuple[str, str], int]) -> list[dict[str, str]]:
    return [
        {"record_type": t, "action": a, "scope": scope_name(s)}
        for (t, a), s in sorted(grants.items())
        if s > Scope.NONE
    ]


def _user_out(user: User) -> User:
    """Read the user back with his unit and roles (after a write they may be stale)."""
    return User.objects.select_related("unit").prefetch_related("roles").get(pk=user.pk)


def _users() -> QuerySet[User]:
    return User.objects.select_related("unit").prefetch_related("roles")


def _units() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.select_related("parent", "manager")


def _role_out(role: Role) -> dict:
    grants = {(g.record_type, g.action): g.scope for g in role.grants.all()}
    return {
        "id": role.pk,
        "name": role.name,
        "description": role.description,
        "version": role.version,
        "updated_at": role.updated_at,
        "grants": _grant_list(grants),
    }


def _user_changes(request: HttpRequest, changes: dict) -> dict:
    """Turn the sent fields into service arguments, resolving ids within the user's sight."""
    if "unit_id" in changes:
        changes["unit"] = resolve(request.user, OrgUnit, changes.pop("unit_id"), "unit_id")
    if "role_ids" in changes:
        role_ids = changes.pop("role_ids")
        changes["roles"] = resolve_many(request.user, Role, role_ids, "role_ids")
    return changes


# --- Me ---------------------------------------------------------------------------------------


@router.get("/me", response={200: MeOut, **ERRORS}, tags=["me"])
def me(request: HttpRequest):
    """The signed-in user, his unit, his roles and his effective grants."""
    user = _user_out(request.user)
    # scope_of is the rule (widest role, administer includes every action, superusers all).
    grants = {(t, a): scope_of(request.user, t, a) for t in record_types() for a in Action.values}
    user.grants = _grant_list(grants)
    return user


# --- Users ------------------------------------------------------------------------------------


@router.get("/users", response={200: list[UserOut], **ERRORS}, tags=["users"])
@paginate(PagePagination)
def list_users(request: HttpRequest, filters: Query[UserFilters]):
    """Users within the caller's data scope, filtered and sorted; paginated."""
    users = _users().visible_to(request.user)
    if filters.unit is not None:
        users = users.filter(unit_id=filters.unit)
    if filters.is_active is not None:
        users = users.filter(is_active=filters.is_active)
    if filters.q:
        q = filters.q.strip()
        users = users.filter(
            Q(username__icontains=q)
            | Q(display_name__icontains=q)
            | Q(email__icontains=q)
            | Q(mobile__icontains=q)
        )
    return users.order_by(filters.sort, "pk")


@router.get("/users/{user_id}", response={200: UserOut, **ERRORS}, tags=["users"])
def get_user(request: HttpRequest, user_id: RecordId):
    return get_for(request.user, _users(), user_id)


@router.post("/users", response={201: UserOut, **WRITE_ERRORS}, tags=["users"])
def create_user(request: HttpRequest, payload: UserCreate):
    """Invite a user; with an e-mail address he gets a link to set his password."""
    require(request.user, "user", Action.CREATE)
    fields = _user_changes(request, payload.model_dump())
    user = services.invite_user(
        **fields, by=request.user, base_url=request.build_absolute_uri("/").rstrip("/")
    )
    return Status(201, _user_out(user))


@router.patch("/users/{user_id}", response={200: UserOut, **WRITE_ERRORS}, tags=["users"])
def update_user(request: HttpRequest, user_id: RecordId, payload: UserUpdate):
    """Change the fields sent; `version` must be the one you read."""
    user = get_for_action(request.user, User, user_id, Action.EDIT)
    changes = _user_changes(request, sent(payload, nullable={"unit_id"}))
    services.update_user(user, by=request.user, expected_version=payload.version, **changes)
    return _user_out(user)


class DeactivateIn(Schema):
    to_user_id: RecordId | None = Field(
        None,
        description="Hand his records over to this user in the same step; empty: he keeps them",
    )
    reason: Text = Field("", max_length=200, examples=["张伟离职，客户交接给刘洋"])


class DeactivatedOut(UserOut):
    handed_over: dict[str, int] = Field(
        description="How many records of each kind moved", examples=[{"customers": 12, "leads": 3}]
    )


@router.post(
    "/users/{user_id}/deactivate", response={200: DeactivatedOut, **WRITE_ERRORS}, tags=["users"]
)
def deactivate_user(request: HttpRequest, user_id: RecordId, payload: DeactivateIn | None = None):
    """He can no longer log in; his sessions and tokens stop working. Needs `delete` on user.
    With `to_user_id` and a `reason` his records (customers, leads, open items) go to that
    user in the same step, all or nothing, as with POST /users/{id}/handover; the body may be
    left out."""
    user = get_for_action(request.user, User, user_id, Action.DELETE)
    payload = payload or DeactivateIn()
    to = resolve(request.user, User, payload.to_user_id, "to_user_id")
    with fields_renamed({"to": "to_user_id"}):
        moved = services.deactivate_user(
            user, by=request.user, hand_over_to=to, reason=payload.reason
        )
    out = _user_out(user)
    out.handed_over = moved
    return out


@router.post("/users/{user_id}/reactivate", response={200: UserOut, **WRITE_ERRORS}, tags=["users"])
def reactivate_user(request: HttpRequest, user_id: RecordId):
    user = get_for_action(request.user, User, user_id, Action.DELETE)
    services.reactivate_user(user, by=request.user)
    return _user_out(user)


class HandoverIn(Schema):
    to_user_id: RecordId | None = None
    reason: Text | None = Field(None, max_length=200, examples=["张伟离职，客户交接给刘洋"])

    model_config = {"json_schema_extra": required_after_fetch("to_user_id", "reason")}


class HandoverOut(Schema):
    handed_over: dict[str, int] = Field(
        description="How many records of each kind moved", examples=[{"customers": 12, "leads": 3}]
    )


@router.post(
    "/users/{user_id}/handover", response={200: HandoverOut, **WRITE_ERRORS}, tags=["users"]
)
def hand_over(request: HttpRequest, user_id: RecordId, payload: HandoverIn):
    """Give everything the user owns (customers, leads, open items) to another user, with a
    reason; all or nothing. Needs `approve` and edit on every record that moves."""
    person = get_for(request.user, User, user_id)
    to = resolve(request.user, User, required(payload.to_user_id, "to_user_id"), "to_user_id")
    reason = required(payload.reason, "reason")
    with fields_renamed({"to": "to_user_id"}):
        moved = handover.hand_over(person, to=to, reason=reason, by=request.user)
    return {"handed_over": moved}


# --- Org units --------------------------------------------------------------------------------


@router.get("/org-units", response={200: list[UnitOut], **ERRORS}, tags=["org units"])
@paginate(PagePagination)
def list_units(request: HttpRequest):
    """The org units within the caller's data scope, in tree order; paginated."""
    return _units().visible_to(request.user).order_by("path")


@router.get("/org-units/{unit_id}", response={200: UnitOut, **ERRORS}, tags=["org units"])
def get_unit(request: HttpRequest, unit_id: RecordId):
    return get_for(request.user, _units(), unit_id)


@router.post("/org-units", response={201: UnitOut, **WRITE_ERRORS}, tags=["org units"])
def create_unit(request: HttpRequest, payload: UnitCreate):
    require(request.user, "org_unit", Action.CREATE)
    unit = services.create_unit(
        name=payload.name,
        parent=resolve(request.user, OrgUnit, payload.parent_id, "parent_id"),
        manager=resolve(request.user, User, payload.manager_id, "manager_id"),
        by=request.user,
    )
    return Status(201, _units().get(pk=unit.pk))


@router.patch("/org-units/{unit_id}", response={200: UnitOut, **WRITE_ERRORS}, tags=["org units"])
def update_unit(request: HttpRequest, unit_id: RecordId, payload: UnitUpdate):
    """Rename, move (with its whole subtree) or change the manager; `version` is required."""
    unit = get_for_action(request.user, _units(), unit_id, Action.EDIT)
    changes = sent(payload, nullable={"parent_id", "manager_id"})
    if "parent_id" in changes:
        changes["parent"] = resolve(request.user, OrgUnit, changes.pop("parent_id"), "parent_id")
    if "manager_id" in changes:
        changes["manager"] = resolve(request.user, User, changes.pop("manager_id"), "manager_id")
    services.update_unit(unit, by=request.user, expected_version=payload.version, **changes)
    return _units().get(pk=unit.pk)


@router.delete("/org-units/{unit_id}", response={204: None, **WRITE_ERRORS}, tags=["org units"])
def delete_unit(request: HttpRequest, unit_id: RecordId):
    """Move it to the recycle bin; refused (400) while it has members or units below it."""
    unit = get_for_action(request.user, OrgUnit, unit_id, Action.DELETE)
    services.delete_unit(unit, by=request.user)
    return Status(204, None)


# --- Roles ------------------------------------------------------------------------------------


@router.get("/roles", response={200: list[RoleOut], **ERRORS}, tags=["roles"])
@paginate(PagePagination)
def list_roles(request: HttpRequest):
    """The roles the caller may see (with a narrow scope: the roles he holds); paginated."""
    return Role.objects.visible_to(request.user).order_by("name", "pk")


@router.get("/roles/{role_id}", response={200: RoleDetailOut, **ERRORS}, tags=["roles"])
def get_role(request: HttpRequest, role_id: RecordId):
    """A role with its grants: per record type and action, a data scope."""
    return _role_out(get_for(request.user, Role.objects.prefetch_related("grants"), role_id))


@router.post("/roles", response={201: RoleDetailOut, **WRITE_ERRORS}, tags=["roles"])
def create_role(request: HttpRequest, payload: RoleCreate):
    require(request.user, "role", Action.CREATE)
    role = services.create_role(
        name=payload.name,
        description=payload.description,
        grants=_grant_dict(payload.grants),
        by=request.user,
    )
    return Status(201, _role_out(Role.objects.prefetch_related("grants").get(pk=role.pk)))


@router.patch("/roles/{role_id}", response={200: RoleDetailOut, **WRITE_ERRORS}, tags=["roles"])
def update_role(request: HttpRequest, role_id: RecordId, payload: RoleUpdate):
    """Change the name, the description or the whole list of grants; `version` is required."""
    role = get_for_action(request.user, Role, role_id, Action.EDIT)
    changes = sent(payload)
    if "grants" in changes:
        changes["grants"] = _grant_dict(payload.grants or [])
    services.update_role(role, by=request.user, expected_version=payload.version, **changes)
    return _role_out(Role.objects.prefetch_related("grants").get(pk=role.pk))


@router.delete("/roles/{role_id}", response={204: None, **WRITE_ERRORS}, tags=["roles"])
def delete_role(request: HttpRequest, role_id: RecordId):
    """Move it to the recycle bin; its holders lose its grants at once."""
    role = get_for_action(request.user, Role, role_id, Action.DELETE)
    services.delete_role(role, by=request.user)
    return Status(204, None)
