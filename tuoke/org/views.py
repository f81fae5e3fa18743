"""Pages for the org chart, users and roles: administrators change them, everyone else
reads what his data scope reaches. Every record comes in through the scope functions of
``tuoke.core.scope``; writes go through ``tuoke.org.services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tuoke.core.errors import Conflict
from tuoke.core.models import Action, Scope
from tuoke.core.scope import (
    can,
    get_for,
    get_for_action,
    may_act_on,
    record_types,
    require,
    scope_queryset,
)
from tuoke.core.views import add_service_error, audit_trail, paginate

from . import handover, services
from .forms import HandoverForm, InviteForm, RoleForm, UnitForm, UserForm
from .models import OrgUnit, Role, RoleGrant, User

# --- Access ------------------------------------------------------------------------------------


def _version(form) -> int | None:
    return form.cleaned_data.get("version")


def _unit_choices(user):
    return OrgUnit.objects.visible_to(user).order_by("path")


def _people_choices(user):
    return User.objects.visible_to(user).filter(is_active=True).order_by("username")


def _role_choices(user):
    return Role.objects.visible_to(user).order_by("name")


# --- Units -------------------------------------------------------------------------------------


@login_required
def unit_list(request):
    """The org chart as an indented tree, within the user's view scope."""
    units = list(
        OrgUnit.objects.visible_to(request.user)
        .select_related("manager")
        .annotate(member_count=Count("members", filter=Q(members__is_active=True)))
        .order_by("path")
    )
    top = min((u.depth for u in units), default=0)
    for unit in units:
        unit.indent = range(unit.depth - top)
    return render(
        request,
        "org/unit_list.html",
        {"units": units, "may_create": can(request.user, "org_unit", Action.CREATE)},
    )


@login_required
def unit_detail(request, pk: int):
    unit = get_for(request.user, OrgUnit.objects.select_related("manager", "parent"), pk)
    members = (
        User.objects.visible_to(request.user)
        .filter(unit=unit)
        .prefetch_related("roles")
        .order_by("-is_active", "username")
    )
    children = OrgUnit.objects.visible_to(request.user).filter(parent=unit).order_by("path")
    return render(
        request,
        "org/unit_detail.html",
        {
            "unit": unit,
            "members": members,
            "children": children,
            "may_edit": may_act_on(request.user, unit, Action.EDIT),
            "may_delete": may_act_on(request.user, unit, Action.DELETE),
            "audit_page": audit_trail(request, unit),
        },
    )


@login_required
def unit_create(request):
    require(request.user, "org_unit", Action.CREATE)
    units = scope_queryset(OrgUnit.objects.all(), request.user, Action.CREATE).order_by("path")
    people = _people_choices(request.user)
    initial = {"parent": request.GET.get("parent")} if request.GET.get("parent") else None
    form = UnitForm(request.POST or None, units=units, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            unit = services.create_unit(
                name=data["name"], parent=data["parent"], manager=data["manager"], by=request.user
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Unit “%(name)s” was created.") % {"name": unit})
            return redirect("org:unit_detail", pk=unit.pk)
    return render(request, "org/unit_form.html", {"form": form, "unit": None})


@login_required
def unit_edit(request, pk: int):
    unit = get_for_action(request.user, OrgUnit.objects.all(), pk, Action.EDIT)
    units = scope_queryset(OrgUnit.objects.all(), request.user, Action.EDIT).order_by("path")
    people = _people_choices(request.user)
    initial = {
        "name": unit.name,
        "parent": unit.parent_id,
        "manager": unit.manager_id,
        "version": unit.version,
    }
    form = UnitForm(request.POST or None, units=units, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_unit(
                unit,
                by=request.user,
                expected_version=_version(form),
                name=data["name"],
                parent=data["parent"],
                manager=data["manager"],
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Unit “%(name)s” was saved.") % {"name": unit})
            return redirect("org:unit_detail", pk=unit.pk)
    return render(request, "org/unit_form.html", {"form": form, "unit": unit})


@login_required
def unit_delete(request, pk: int):
    unit = get_for_action(request.user, OrgUnit.objects.all(), pk, Action.DELETE)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.delete_unit(unit, by=request.user)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(
                request,
                _("Unit “%(name)s” was moved to the recycle bin.") % {"name": unit},
            )
            return redirect("org:unit_list")
    return render(
        request,
        "org/unit_delete.html",
        {
            "unit": unit,
            "errors": errors,
            "member_count": unit.members.count(),
            "child_count": unit.children.count(),
        },
        status=400 if errors else 200,
    )


# --- Users -------------------------------------------------------------------------------------

USER_SORTS = {
    "username": "username",
    "name": "display_name",
    "unit": "unit__path",
    "last_login": "last_login",
    "joined": "date_joined",
}


@login_required
def user_list(request):
    """Users within the view scope: search, filter by unit, role and status, sort, paginate."""
    user = request.user
    people = User.objects.visible_to(user)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        people = people.filter(
            Q(username__icontains=query)
            | Q(display_name__icontains=query)
            | Q(email__icontains=query)
            | Q(mobile__icontains=query)
        )
    units = list(_unit_choices(user))
    top = min((u.depth for u in units), default=0)
    for u in units:
        u.tree_label = "— " * (u.depth - top) + u.name
    unit = next((u for u in units if str(u.pk) == request.GET.get("unit")), None)
    if unit is not None:
        people = people.filter(unit__path__startswith=unit.path)
    roles = list(_role_choices(user))
    role = next((r for r in roles if str(r.pk) == request.GET.get("role")), None)
    if role is not None:
        people = people.filter(roles=role)
    status = request.GET.get("status", "")
    if status == "active":
        people = people.filter(is_active=True)
    elif status == "deactivated":
        people = people.filter(is_active=False)
    sort = request.GET.get("sort", "username")
    field = USER_SORTS.get(sort.removeprefix("-"), "username")
    if sort.startswith("-"):
        order = [f"-{field}", "-pk"]
    else:
        order = [field, "pk"]
        sort = sort if sort in USER_SORTS else "username"
    people = (
        people.select_related("unit")
        .prefetch_related(Prefetch("roles", queryset=Role.objects.order_by("name")))
        .order_by(*order)
    )
    page = paginate(request, people)
    return render(
        request,
        "org/user_list.html",
        {
            "page_obj": page,
            "query": query,
            "units": units,
            "unit": unit,
            "roles": roles,
            "role": role,
            "status": status,
            "sort": sort,
            "filtered": bool(query or unit or role or status),
            "may_invite": can(user, "user", Action.CREATE),
        },
    )


@login_required
def user_detail(request, pk: int):
    person = get_for(
        request.user,
        User.objects.select_related("unit", "unit__manager").prefetch_related("roles"),
        pk,
    )
    # The trail holds login addresses, so only administrators and the person himself see it.
    show_audit = person.pk == request.user.pk or can(request.user, "user", Action.ADMINISTER)
    return render(
        request,
        "org/user_detail.html",
        {
            "person": person,
            "may_edit": may_act_on(request.user, person, Action.EDIT),
            "audit_page": audit_trail(request, person) if show_audit else None,
            "is_self": person.pk == request.user.pk,
            "may_hand_over": person.pk != request.user.pk and handover.may_hand_over(request.user),
        },
    )


@login_required
def user_invite(request):
    require(request.user, "user", Action.CREATE)
    form = InviteForm(
        request.POST or None, units=_unit_choices(request.user), roles=_role_choices(request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.invite_user(
                username=data["username"],
                display_name=data["display_name"],
                email=data["email"],
                mobile=data["mobile"],
                title=data["title"],
                unit=data["unit"],
                roles=data["roles"],
                password=data["password"] or None,
                by=request.user,
                base_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if data["password"]:
                note = _("%(name)s can log in now with the initial password.")
            else:
                note = _("%(name)s was invited; a link to set a password was e-mailed.")
            messages.success(request, note % {"name": person})
            return redirect("org:user_detail", pk=person.pk)
    return render(request, "org/user_form.html", {"form": form, "person": None})


@login_required
def user_edit(request, pk: int):
    person = get_for_action(request.user, User.objects.prefetch_related("roles"), pk, Action.EDIT)
    roles = _role_choices(request.user)
    initial = {
        "username": person.username,
        "display_name": person.display_name,
        "email": person.email,
        "mobile": person.mobile,
        "title": person.title,
        "unit": person.unit_id,
        "roles": [r.pk for r in person.roles.all()],
        "version": person.version,
    }
    form = UserForm(
        request.POST or None, units=_unit_choices(request.user), roles=roles, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_user(
                person,
                by=request.user,
                expected_version=_version(form),
                roles=data["roles"],
                username=data["username"],
                display_name=data["display_name"],
                email=data["email"],
                mobile=data["mobile"],
                title=data["title"],
                unit=data["unit"],
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": person})
            return redirect("org:user_detail", pk=person.pk)
    return render(request, "org/user_form.html", {"form": form, "person": person})


def _set_active(request, pk: int, *, active: bool):
    # Deactivating is how users are removed (they are never deleted), so it needs delete.
    person = get_for_action(request.user, User.objects.all(), pk, Action.DELETE)
    holdings = [] if active else [h for h in handover.holdings(person, by=request.user) if h.count]
    form = None
    if holdings:
        form = HandoverForm(request.POST or None, person=person, by=request.user, required=False)
    error = ""
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            moved = {}
            if active:
                services.reactivate_user(person, by=request.user)
            else:
                data = form.cleaned_data if form is not None else {}
                moved = services.deactivate_user(
                    person,
                    by=request.user,
                    hand_over_to=data.get("to"),
                    reason=data.get("reason", ""),
                )
        except (ValidationError, PermissionDenied) as exc:
            if form is not None and isinstance(exc, ValidationError):
                add_service_error(form, exc)
            else:
                error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        else:
            if active:
                note = _("%(name)s can log in again.")
            else:
                note = _("%(name)s was deactivated and can no longer log in.")
            messages.success(request, note % {"name": person})
            if moved:
                messages.success(request, _("Handed over: %s") % handover.describe(moved))
            return redirect("org:user_detail", pk=person.pk)
    invalid = bool(error) or (form is not None and form.errors)
    return render(
        request,
        "org/user_status.html",
        {
            "person": person,
            "activate": active,
            "error": error,
            "form": form,
            "holdings": holdings,
        },
        status=400 if invalid else 200,
    )


@login_required
def user_handover(request, pk: int):
    """Hand a person's customers, leads and open items to a colleague (team change, leave)."""
    person = get_for(request.user, User.objects.all(), pk)
    holdings = handover.holdings(person, by=request.user)
    form = HandoverForm(request.POST or None, person=person, by=request.user, required=True)
    if request.method == "POST" and form.is_valid():
        try:
            moved = handover.hand_over(
                person,
                to=form.cleaned_data["to"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Handed over: %s") % (handover.describe(moved) or _("nothing"))
            )
            return redirect("org:user_detail", pk=person.pk)
    return render(
        request,
        "org/user_handover.html",
        {"person": person, "form": form, "holdings": holdings},
        status=400 if form.errors else 200,
    )


@login_required
def user_deactivate(request, pk: int):
    return _set_active(request, pk, active=False)


@login_required
def user_reactivate(request, pk: int):
    return _set_active(request, pk, active=True)


# --- Roles -------------------------------------------------------------------------------------


@login_required
def role_list(request):
    # Counted in subqueries: the scope's own join on users must not narrow the counts.
    holders = (
        Role.users.through.objects.filter(role=OuterRef("pk"), user__is_active=True)
        .values("role")
        .annotate(n=Count("*"))
        .values("n")
    )
    grants = (
        RoleGrant.objects.filter(role=OuterRef("pk"))
        .values("role")
        .annotate(n=Count("*"))
        .values("n")
    )
    roles = (
        Role.objects.visible_to(request.user)
        .annotate(
            user_count=Coalesce(Subquery(holders), 0),
            grant_count=Coalesce(Subquery(grants), 0),
        )
        .order_by("name")
    )
    return render(
        request,
        "org/role_list.html",
        {
            "page_obj": paginate(request, roles),
            "may_create": can(request.user, "role", Action.CREATE),
        },
    )


def _grant_table(role: Role) -> list[dict]:
    grants = {(g.record_type, g.action): g.scope for g in role.grants.all()}
    rows = []
    for record_type, model in record_types().items():
        cells = [
            {"action": a, "scope": Scope(grants.get((record_type, a.value), Scope.NONE))}
            for a in Action
        ]
        rows.append({"label": model._meta.verbose_name_plural, "cells": cells})
    return rows


@login_required
def role_detail(request, pk: int):
    role = get_for(request.user, Role.objects.all(), pk)
    holders = (
        User.objects.visible_to(request.user)
        .filter(roles=role)
        .select_related("unit")
        .order_by("-is_active", "username")
    )
    return render(
        request,
        "org/role_detail.html",
        {
            "role": role,
            "grant_rows": _grant_table(role),
            "actions": list(Action),
            "holders": holders,
            "may_edit": may_act_on(request.user, role, Action.EDIT),
            "may_delete": may_act_on(request.user, role, Action.DELETE),
            "audit_page": audit_trail(request, role),
        },
    )


@login_required
def role_create(request):
    require(request.user, "role", Action.CREATE)
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            role = services.create_role(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                grants=form.grants(),
                by=request.user,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Role “%(name)s” was created.") % {"name": role})
            return redirect("org:role_detail", pk=role.pk)
    return render(request, "org/role_form.html", {"form": form, "role": None})


@login_required
def role_edit(request, pk: int):
    role = get_for_action(request.user, Role.objects.all(), pk, Action.EDIT)
    grants = {(g.record_type, g.action): g.scope for g in role.grants.all()}
    initial = {"name": role.name, "description": role.description, "version": role.version}
    form = RoleForm(request.POST or None, grants=grants, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_role(
                role,
                by=request.user,
                expected_version=_version(form),
                grants=form.grants(),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Role “%(name)s” was saved.") % {"name": role})
            return redirect("org:role_detail", pk=role.pk)
    return render(request, "org/role_form.html", {"form": form, "role": role})


@login_required
def role_delete(request, pk: int):
    role = get_for_action(request.user, Role.objects.all(), pk, Action.DELETE)
    if request.method == "POST":
        services.delete_role(role, by=request.user)
        messages.success(
            request, _("Role “%(name)s” was moved to the recycle bin.") % {"name": role}
        )
        return redirect("org:role_list")
    holders = role.users.filter(is_active=True).count()
    return render(request, "org/role_delete.html", {"role": role, "holder_count": holders})
