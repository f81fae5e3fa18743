"""Data scopes: the one place that decides which records a user may see or change.

Every user-facing query (lists, details, search, exports, dashboards, API, fragments)
starts from ``Model.objects.visible_to(user, action)`` or ``get_for(...)`` below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Action, Scope, TrackedModel

if TYPE_CHECKING:
    from tuoke.org.models import User

M = TypeVar("M", bound=models.Model)


def record_types() -> dict[str, type[models.Model]]:
    """Every model that roles can grant actions on, by its ``record_type`` key."""
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models():
        key = getattr(model, "record_type", "")
        # A model field named record_type (RoleGrant) is not a declaration.
        if isinstance(key, str) and key:
            found[key] = model
    return dict(sorted(found.items()))


def recyclable_types() -> dict[str, type[TrackedModel]]:
    """The record types that are soft-deleted and so appear in the recycle bin."""
    return {k: m for k, m in record_types().items() if issubclass(m, TrackedModel)}


def grants_of(user: User) -> dict[tuple[str, str], int]:
    """(record type, action) → widest scope over all the user's roles; kept on the user
    object and, between requests, under the directory's fingerprint (roles, grants and
    people are in it)."""
    cached = getattr(user, "_tuoke_grants", None)
    if cached is not None:
        return cached
    grants: dict[tuple[str, str], int] = {}
    if user.is_authenticated and user.is_active:
        from . import directory

        grants = dict(directory.cached_for(user, "grants", lambda: _read_grants(user)))
    user._tuoke_grants = grants  # type: ignore[union-attr]
    return grants


def _read_grants(user: User) -> dict[tuple[str, str], int]:
    from tuoke.org.models import RoleGrant

    grants: dict[tuple[str, str], int] = {}
    rows = RoleGrant.objects.filter(role__users=user, role__deleted_at__isnull=True).values_list(
        "record_type", "action", "scope"
    )
    for record_type, action, scope in rows:
        key = (record_type, action)
        grants[key] = max(grants.get(key, Scope.NONE), scope)
    return grants


def scope_of(user: User, record_type: str, action: str = Action.VIEW) -> int:
    """The widest scope any of the user's roles grants for this action on this record type.

    Administering a record type includes every action on it, within the administer scope.
    """
    if not user.is_authenticated or not user.is_active:
        return Scope.NONE
    if user.is_superuser:
        return Scope.ALL
    grants = grants_of(user)
    return max(
        grants.get((record_type, str(action)), Scope.NONE),
        grants.get((record_type, str(Action.ADMINISTER)), Scope.NONE),
    )


def can(user: User, record_type: str, action: str = Action.VIEW) -> bool:
    return scope_of(user, record_type, action) > Scope.NONE


def scope_queryset(queryset: models.QuerySet[M], user: User, action: str = Action.VIEW):
    model = queryset.model
    scope = scope_of(user, model.record_type, action)
    if scope == Scope.NONE:
        return queryset.none()
    if scope == Scope.ALL:
        return queryset
    condition = model.scope_q(user, scope)
    shared = model.shared_q(user, str(action)) if hasattr(model, "shared_q") else None
    return queryset.filter(condition | shared if shared is not None else condition)


def get_for(user: User, queryset_or_model, pk, action: str = Action.VIEW):
    """Fetch one record the user may act on, or raise Http404 (never 403: he may not know it)."""
    queryset = (
        queryset_or_model
        if isinstance(queryset_or_model, models.QuerySet)
        else queryset_or_model.objects.all()
    )
    try:
        return scope_queryset(queryset, user, action).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def require(user: User, record_type: str, action: str) -> None:
    """Refuse (403) an action the user's roles grant on no record of this type. For pages
    and routes that create records or act on none: there is no record to hide."""
    if not can(user, record_type, action):
        raise PermissionDenied(_("You do not have permission to do this."))


def get_for_action(user: User, queryset_or_model, pk, action: str):
    """Fetch a record for an action: Http404 if the user cannot even see it, PermissionDenied
    if he sees it but his roles do not let him ``action`` it."""
    try:
        return get_for(user, queryset_or_model, pk, action)
    except Http404:
        get_for(user, queryset_or_model, pk)  # Http404 when it is out of his sight
        raise PermissionDenied(_("You do not have permission to do this.")) from None


def may_act_on(user: User, record: models.Model, action: str) -> bool:
    """Whether the user may ``action`` this record (shows or hides its buttons)."""
    model = type(record)
    return scope_queryset(model._default_manager.filter(pk=record.pk), user, action).exists()


def people_in_scope(user: User, record_type: str, action: str = Action.VIEW) -> models.QuerySet:
    """The people whose records of ``record_type`` ``user`` reaches by his grant (himself for
    OWN, his unit, or his unit and below, everyone for ALL): the owner filters' choices, and
    the check that an owner asked for is within them."""
    from tuoke.org.models import User as Person

    scope = scope_of(user, record_type, action)
    people = Person.objects.all()
    if scope <= Scope.NONE:
        return people.none()
    if scope >= Scope.ALL:
        return people
    return people.filter(Person.scope_q(user, scope))


def units_in_scope(user: User, record_type: str, action: str = Action.VIEW) -> models.QuerySet:
    """The units whose people's records of ``record_type`` ``user`` reaches (the unit
    filters' choices): none for OWN."""
    from tuoke.org.models import OrgUnit as Unit

    scope = scope_of(user, record_type, action)
    if scope >= Scope.ALL:
        return Unit.objects.all()
    if scope <= Scope.OWN:
        return Unit.objects.none()
    return Unit.objects.filter(Unit.scope_q(user, scope))
