"""Every write on the org chart, users, roles and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from tuoke.core import audit
from tuoke.core import services as core_services
from tuoke.core.errors import Conflict, ErrorCode, field_error
from tuoke.core.models import Action, AuditEntry, Scope
from tuoke.core.scope import record_types

from . import handover
from .models import ApiToken, OrgUnit, Role, RoleGrant, User

TOKEN_PREFIX = "tk_"

# --- Units ------------------------------------------------------------------------------------


def _path_for(unit: OrgUnit) -> str:
    base = unit.parent.path if unit.parent is not None else ""
    return f"{base}{unit.pk:04d}."


@transaction.atomic
def create_unit(
    *, name: str, parent: OrgUnit | None = None, manager: User | None = None, by: User | None
) -> OrgUnit:
    unit = core_services.create_record(
        OrgUnit, by=by, name=name.strip(), parent=parent, manager=manager
    )
    unit.path = _path_for(unit)
    unit.save(update_fields=["path"])
    return unit


@transaction.atomic
def update_unit(
    unit: OrgUnit, *, by: User | None, expected_version: int | None = None, **changes
) -> OrgUnit:
    """Rename, re-parent or change the manager; moving a unit moves its whole subtree."""
    new_parent = changes.get("parent", unit.parent)
    if new_parent is not None and (
        new_parent.pk == unit.pk or new_parent.path.startswith(unit.path)
    ):
        raise field_error(
            "parent",
            _("A unit cannot be placed under itself or one of its own units."),
            ErrorCode.CYCLE,
        )
    old_path = unit.path
    unit = core_services.update_record(unit, by=by, expected_version=expected_version, **changes)
    new_path = _path_for(unit)
    if new_path != old_path:
        for node in OrgUnit.all_objects.filter(path__startswith=old_path).order_by("path"):
            node.path = new_path + node.path[len(old_path) :]
            node.save(update_fields=["path"])
    return unit


@transaction.atomic
def delete_unit(unit: OrgUnit, *, by: User | None) -> None:
    if unit.children.filter(deleted_at__isnull=True).exists():
        raise field_error("parent", _("Move or delete the units below it first."), ErrorCode.IN_USE)
    if unit.members.exists():
        raise field_error("members", _("Move its members to another unit first."), ErrorCode.IN_USE)
    core_services.soft_delete(unit, by=by)


# --- Users ------------------------------------------------------------------------------------


def _user_snapshot(user: User) -> dict[str, str]:
    names = [*User.tracked_field_names(), "roles"]
    return audit.snapshot(user, names)


def _audit_user(user: User, before: dict[str, str], *, by: User | None, kind: str, note: str = ""):
    changes = audit.diff(user, before, _user_snapshot(user))
    if changes or kind != AuditEntry.Kind.UPDATE:
        audit.record(user, kind=kind, actor=by, changes=changes, note=note)


def _check_may_assign_roles(by: User | None, *, before: set[int], after: set[int]) -> None:
    """Handing out roles hands out access: only those who administer roles may change them.

    ``by`` None is the system itself (the demo, migrations, commands run by an operator).
    """
    from tuoke.core.scope import can

    if by is None or before == after:
        return
    if not can(by, "role", Action.ADMINISTER):
        raise field_error(
            "roles",
            _("Only administrators of roles may give or take away roles."),
            ErrorCode.FORBIDDEN,
        )


def set_password_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})


@transaction.atomic
def invite_user(
    *,
    username: str,
    display_name: str,
    email: str = "",
    unit: OrgUnit | None = None,
    roles: Iterable[Role] = (),
    mobile: str = "",
    title: str = "",
    password: str | None = None,
    by: User | None,
    base_url: str = "",
) -> User:
    """Create an account; without a password the invitee sets one through an e-mailed link."""
    roles = list(roles)
    _check_may_assign_roles(by, before=set(), after={r.pk for r in roles})
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise field_error("username", _("This username is already taken."), ErrorCode.DUPLICATE)
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=email.strip(),
        unit=unit,
        mobile=mobile.strip(),
        title=title.strip(),
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    user.roles.set(roles)
    before = dict.fromkeys([*User.tracked_field_names(), "roles"], "")
    _audit_user(user, before, by=by, kind=AuditEntry.Kind.CREATE)
    if user.email and not password:
        link = base_url + set_password_link(user)
        transaction.on_commit(
            lambda: send_mail(
                _("You are invited to Tuoke CRM"),
                _("Hello %(name)s,\n\nset your password here to start using Tuoke:\n%(link)s\n")
                % {"name": user, "link": link},
                settings.DEFAULT_FROM_EMAIL,
                [user.email],
                fail_silently=True,
            )
        )
    return user


@transaction.atomic
def update_user(
    user: User,
    *,
    by: User | None,
    expected_version: int | None = None,
    roles: Iterable[Role] | None = None,
    **changes,
) -> User:
    """Change a user's facts and roles. Roles the editor cannot see are kept: he cannot take
    away what he may not know of."""
    before = _user_snapshot(user)
    if "is_active" in changes and not changes["is_active"] and by is not None and by.pk == user.pk:
        raise field_error("is_active", _("You cannot deactivate yourself."), ErrorCode.SELF_ACTION)
    if expected_version is not None and expected_version != user.version:
        raise Conflict()
    for name in ("username", "display_name", "email", "mobile", "title"):
        if isinstance(changes.get(name), str):
            changes[name] = changes[name].strip()
    if (
        "username" in changes
        and User.objects.filter(username__iexact=changes["username"]).exclude(pk=user.pk).exists()
    ):
        raise field_error("username", _("This username is already taken."), ErrorCode.DUPLICATE)
    for name, value in changes.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.updated_by = by
    # Write only the changed fields, and only if the row still has the version we read:
    # a concurrent edit (or a password change) is never silently overwritten.
    current = user.version
    fields = {name: getattr(user, name) for name in changes}
    written = User.objects.filter(pk=user.pk, version=current).update(
        **fields, updated_by=by, updated_at=timezone.now(), version=current + 1
    )
    if written == 0:
        raise Conflict()
    user.version = current + 1
    if roles is not None:
        roles = list(roles)
        if by is not None:
            roles += user.roles.exclude(pk__in=Role.objects.visible_to(by).values("pk"))
        _check_may_assign_roles(
            by,
            before=set(user.roles.values_list("pk", flat=True)),
            after={r.pk for r in roles},
        )
        user.roles.set(roles)
    _audit_user(user, before, by=by, kind=AuditEntry.Kind.UPDATE)
    return user


@transaction.atomic
def deactivate_user(
    user: User, *, by: User | None, hand_over_to: User | None = None, reason: str = ""
) -> dict[str, int]:
    """A deactivated user can no longer log in, and his sessions and tokens stop working.

    With ``hand_over_to``, what he owns goes to that colleague with ``reason`` in the same
    step (see ``handover.hand_over``; ``by`` needs the rights to move every record): all or
    nothing, so a refused handover leaves him active, and a refused deactivation leaves his
    records with him. Without it his records stay his (``reason`` is then unused). Returns
    how many records of each kind moved.
    """
    moved: dict[str, int] = {}
    if hand_over_to is not None:
        if by is None:
            raise ValueError("A handover is checked against the rights of the user doing it.")
        # First: a refused handover then changes nothing, not even the object the caller holds.
        moved = handover.hand_over(user, to=hand_over_to, reason=reason, by=by)
    update_user(user, by=by, is_active=False)
    return moved


def reactivate_user(user: User, *, by: User | None) -> User:
    return update_user(user, by=by, is_active=True)


@transaction.atomic
def change_password(user: User, *, new_password: str) -> None:
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit.record(user, kind=AuditEntry.Kind.UPDATE, actor=user, note="password changed")


# --- Login throttling ---------------------------------------------------------------------------


def _failures_key(username: str) -> str:
    return "login-failures:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()


def login_locked(username: str) -> bool:
    """Whether too many wrong passwords were tried for this username lately (ASVS 6.3.1)."""
    return cache.get(_failures_key(username), 0) >= settings.LOGIN_MAX_FAILURES


def note_failed_login(username: str) -> None:
    key = _failures_key(username)
    # add() starts the window; incr() keeps it, so the lock lifts a window after the first miss.
    if not cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def clear_failed_logins(username: str) -> None:
    cache.delete(_failures_key(username))


# --- Roles ------------------------------------------------------------------------------------


def _validate_grants(grants: dict[tuple[str, str], int]) -> None:
    known_types = record_types()
    actions = set(Action.values)
    for (record_type, action), scope in grants.items():
        if record_type not in known_types:
            raise field_error(
                "grants", _("Unknown record type: %s") % record_type, ErrorCode.INVALID
            )
        if action not in actions:
            raise field_error("grants", _("Unknown action: %s") % action, ErrorCode.INVALID)
        if scope not in Scope.values:
            raise field_error("grants", _("Unknown data scope: %s") % scope, ErrorCode.INVALID)


def _grants_text(role: Role) -> str:
    return "; ".join(
        f"{g.record_type}.{g.action}={g.scope}"
        for g in role.grants.order_by("record_type", "action")
    )


def _set_grants(role: Role, grants: dict[tuple[str, str], int]) -> None:
    role.grants.all().delete()
    RoleGrant.objects.bulk_create(
        RoleGrant(role=role, record_type=t, action=a, scope=s)
        for (t, a), s in sorted(grants.items())
        if s > Scope.NONE
    )


@transaction.atomic
def create_role(
    *, name: str, description: str = "", grants: dict[tuple[str, str], int], by: User | None
) -> Role:
    if Role.all_objects.filter(name__iexact=name.strip()).exists():
        raise field_error("name", _("A role with this name already exists."), ErrorCode.DUPLICATE)
    _validate_grants(grants)
    role = core_services.create_record(Role, by=by, name=name.strip(), description=description)
    _set_grants(role, grants)
    # The creation entry carries the initial grants, so the trail shows what the role began with.
    entry = audit.trail_of(role).first()
    if entry is not None and role.grants.exists():
        entry.changes = [
            *entry.changes,
            {"field": "grants", "label": str(_("Grants")), "old": "", "new": _grants_text(role)},
        ]
        entry.save(update_fields=["changes"])
    return role


@transaction.atomic
def update_role(
    role: Role,
    *,
    by: User | None,
    expected_version: int | None = None,
    grants: dict[tuple[str, str], int] | None = None,
    **changes,
) -> Role:
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if Role.all_objects.filter(name__iexact=changes["name"]).exclude(pk=role.pk).exists():
            raise field_error(
                "name", _("A role with this name already exists."), ErrorCode.DUPLICATE
            )
    before_grants = _grants_text(role)
    role = core_services.update_record(role, by=by, expected_version=expected_version, **changes)
    if grants is not None:
        _validate_grants(grants)
        _set_grants(role, grants)
        after_grants = _grants_text(role)
        if after_grants != before_grants:
            if not changes:
                Role.all_objects.filter(pk=role.pk).update(version=role.version + 1)
                role.version += 1
            audit.record(
                role,
                kind=AuditEntry.Kind.UPDATE,
                actor=by,
                changes=[
                    {
                        "field": "grants",
                        "label": str(_("Grants")),
                        "old": before_grants,
                        "new": after_grants,
                    }
                ],
            )
    return role


@transaction.atomic
def delete_role(role: Role, *, by: User | None) -> None:
    core_services.soft_delete(role, by=by)


# --- API tokens -------------------------------------------------------------------------------


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_token(*, user: User, name: str, by: User | None = None) -> tuple[ApiToken, str]:
    """Create a personal access token; the raw value is returned once and never stored."""
    name = name.strip()
    if not name:
        raise field_error(
            "name", _("Give the token a name, e.g. the tool that will use it."), ErrorCode.REQUIRED
        )
    if not user.is_active:
        raise ValidationError(_("Deactivated users cannot have tokens."), code=ErrorCode.INVALID)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:60], prefix=raw[:10], token_hash=hash_token(raw)
    )
    audit.record(
        user, kind=AuditEntry.Kind.UPDATE, actor=by or user, note=f"API token created: {token}"
    )
    return token, raw


@transaction.atomic
def revoke_token(token: ApiToken, *, by: User | None) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            token.user, kind=AuditEntry.Kind.UPDATE, actor=by, note=f"API token revoked: {token}"
        )


def user_for_token(raw: str) -> User | None:
    """The active user a raw bearer token belongs to, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
